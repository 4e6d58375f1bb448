package dev.qwen2j.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.core.config.Qwen2Config;
import dev.qwen2j.core.safetensors.Checkpoint;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Interrupts, close() during a generation, changed weights files and configs a runtime must not accept. */
class ModelRobustnessTest {

    @TempDir
    Path dir;

    private Path tinyModel(String name, int layers) throws IOException {
        return RandomQwen2Checkpoint.builder().hiddenSize(64).intermediateSize(128).layers(layers).heads(4).kvHeads(2)
                .seed(3).maxPositionEmbeddings(512).write(dir.resolve(name));
    }

    private static Model load(Path folder) throws IOException {
        return Model.load(folder, ModelOptions.builder().threads(2).contextLength(256).build());
    }

    private static GenerationOptions raw(int maxTokens) {
        // a stop id no token has: only the length (or a cancellation) ends the generation
        return GenerationOptions.builder().chat(false).temperature(0).maxTokens(maxTokens)
                .stopTokenIds(Integer.MAX_VALUE).build();
    }

    @Test
    void interruptingTheGeneratingThreadCancelsWithinOneTokenAndTheModelStaysUsable() throws Exception {
        try (Model model = load(tinyModel("m", 2))) {
            GenerationResult whole = model.generate("hello", raw(200), text -> { });
            CountDownLatch firstText = new CountDownLatch(1);
            CountDownLatch interrupted = new CountDownLatch(1);
            int[] piecesAfterInterrupt = new int[1];
            CompletableFuture<GenerationResult> result = new CompletableFuture<>();
            Thread generating = Thread.ofPlatform().start(() -> {
                try {
                    result.complete(model.generate("hello", raw(200), text -> {
                        if (interrupted.getCount() == 0) {
                            piecesAfterInterrupt[0]++;
                        }
                        firstText.countDown();
                        try {
                            interrupted.await(); // hold the generation here until the interrupt is in
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt(); // await saw it first: keep it for the model
                        }
                    }));
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
            });
            assertTrue(firstText.await(30, TimeUnit.SECONDS));
            generating.interrupt();
            interrupted.countDown();
            GenerationResult cancelled = result.get(30, TimeUnit.SECONDS);
            generating.join();
            assertEquals(FinishReason.CANCELLED, cancelled.finishReason());
            assertTrue(cancelled.generatedTokens() < 200, "stopped early: " + cancelled.generatedTokens());
            assertTrue(piecesAfterInterrupt[0] <= 1, "at most the piece of the token in flight");

            GenerationResult again = model.generate("hello", raw(200), text -> { });
            assertEquals(FinishReason.LENGTH, again.finishReason());
            assertEquals(whole.text(), again.text(), "the model is usable and unchanged after the interrupt");
        }
    }

    @Test
    void closeDuringAGenerationGivesTheGeneratingThreadAClearError() throws Exception {
        Model model = load(tinyModel("m", 2));
        CountDownLatch firstText = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        CompletableFuture<GenerationResult> result = CompletableFuture.supplyAsync(() ->
                model.generate("hello", raw(200), text -> {
                    firstText.countDown();
                    try {
                        closed.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }));
        assertTrue(firstText.await(30, TimeUnit.SECONDS));
        model.close();
        closed.countDown();
        var error = assertThrows(ExecutionException.class, () -> result.get(30, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, error.getCause());
        assertEquals("model closed during the generation", error.getCause().getMessage());
        var later = assertThrows(IllegalStateException.class, () -> model.generate("hi", raw(2), text -> { }));
        assertEquals("model is closed", later.getMessage());
        model.close(); // idempotent
    }

    @Test
    void loadsOnAThreadWhoseInterruptFlagIsSetAndKeepsTheFlag() throws IOException {
        Path folder = tinyModel("m", 2);
        Thread.currentThread().interrupt();
        try (Model model = load(folder)) {
            assertTrue(Thread.interrupted(), "the caller's interrupt status is left set");
            assertEquals(FinishReason.LENGTH, model.generate("hi", raw(3), text -> { }).finishReason());
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void aWeightsFileTruncatedBetweenGenerationsIsRefusedNamingIt() throws IOException {
        Path folder = tinyModel("m", 2);
        Path weights = folder.resolve(Checkpoint.SINGLE_FILE);
        try (Model model = load(folder)) {
            model.generate("hello", raw(4), text -> { });
            try (FileChannel channel = FileChannel.open(weights, StandardOpenOption.WRITE)) {
                channel.truncate(channel.size() / 2);
            }
            var error = assertThrows(IllegalStateException.class, () -> model.generate("hello", raw(4), text -> { }));
            assertTrue(error.getMessage().startsWith(weights + ": changed on disk"), error.getMessage());
            assertTrue(error.getMessage().contains("size changed"), error.getMessage());
        }
    }

    @Test
    void aWeightsFileModifiedBetweenGenerationsIsRefused() throws IOException {
        Path folder = tinyModel("m", 2);
        Path weights = folder.resolve(Checkpoint.SINGLE_FILE);
        try (Model model = load(folder)) {
            Files.setLastModifiedTime(weights, FileTime.from(Instant.now().plusSeconds(3600)));
            var error = assertThrows(IllegalStateException.class, () -> model.generate("hello", raw(4), text -> { }));
            assertTrue(error.getMessage().contains(weights.toString()) && error.getMessage().contains("modified"),
                    error.getMessage());
        }
    }

    @Test
    void anActivationOtherThanSiluIsRefusedNamingTheField() throws IOException {
        Path folder = tinyModel("m", 2);
        editConfig(folder, "hidden_act", "gelu");
        var error = assertThrows(IOException.class, () -> load(folder));
        assertTrue(error.getMessage().contains("config.json") && error.getMessage().contains("hidden_act")
                && error.getMessage().contains("gelu"), error.getMessage());
    }

    @Test
    void fewerConfiguredLayersThanTheCheckpointHasIsAnErrorNamingBothCounts() throws IOException {
        Path folder = tinyModel("m", 3);
        editConfig(folder, "num_hidden_layers", 2);
        var error = assertThrows(IOException.class, () -> load(folder));
        assertTrue(error.getMessage().contains("num_hidden_layers is 2") && error.getMessage().contains("has 3 layers"),
                error.getMessage());
    }

    @Test
    void aContextWhoseCacheCannotFitInMemoryFailsAtLoadWithTheLimit() throws IOException {
        Path folder = tinyModel("m", 2);
        var error = assertThrows(IllegalArgumentException.class, () ->
                Model.load(folder, ModelOptions.builder().threads(1).contextLength(Integer.MAX_VALUE).build()));
        assertTrue(error.getMessage().startsWith("contextLength " + Integer.MAX_VALUE), error.getMessage());
        assertTrue(error.getMessage().contains("at most "), error.getMessage());
        // A position costs its keys and values in every layer, not a whole page of them.
        Qwen2Config config = Qwen2Config.load(folder);
        long perPosition = 2L * config.numHiddenLayers() * config.numKeyValueHeads() * config.headDim() * Float.BYTES;
        assertTrue(error.getMessage().contains("(" + perPosition + " bytes per position)"), error.getMessage());
    }

    private static void editConfig(Path folder, String field, Object value) throws IOException {
        ObjectMapper json = new ObjectMapper();
        Path config = folder.resolve("config.json");
        ObjectNode root = (ObjectNode) json.readTree(config.toFile());
        root.set(field, json.valueToTree(value));
        json.writeValue(config.toFile(), root);
        assertFalse(Files.readString(config).isEmpty());
    }
}
