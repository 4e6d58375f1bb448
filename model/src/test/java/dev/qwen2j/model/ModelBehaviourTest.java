package dev.qwen2j.model;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How a loaded model behaves: concurrency, context limits, cancellation, stops, bad folders. */
class ModelBehaviourTest {

    @TempDir
    static Path dir;
    static Path folder;
    static Model model;

    @BeforeAll
    static void load() throws IOException {
        folder = RandomQwen2Checkpoint.builder().hiddenSize(64).intermediateSize(128).layers(2).heads(4).kvHeads(2)
                .seed(7).maxPositionEmbeddings(512).write(dir.resolve("model"));
        model = Model.load(folder, ModelOptions.builder().threads(2).contextLength(192).build());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static GenerationOptions.Builder raw(int maxTokens) {
        return GenerationOptions.builder().chat(false).maxTokens(maxTokens);
    }

    @Test
    void eightThreadsAtOnceProduceWhatEachProducesAlone() throws Exception {
        List<String> prompts = List.of("one", "two words", "三", "четыре", "five five", "six!", "seven 7", "eight?");
        List<GenerationOptions> options = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            options.add(raw(24).temperature(0.9).topP(0.95).seed(100 + i).build());
        }
        List<GenerationResult> alone = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            alone.add(model.generate(prompts.get(i), options.get(i), text -> { }));
        }

        ExecutorService pool = Executors.newFixedThreadPool(prompts.size());
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<GenerationResult>> together = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                int k = i;
                together.add(pool.submit(() -> {
                    start.await();
                    return model.generate(prompts.get(k), options.get(k), text -> { });
                }));
            }
            start.countDown();
            for (int i = 0; i < prompts.size(); i++) {
                GenerationResult r = together.get(i).get(60, TimeUnit.SECONDS);
                assertEquals(alone.get(i).text(), r.text(), "prompt " + i);
                assertEquals(alone.get(i).generatedTokens(), r.generatedTokens(), "prompt " + i);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void sameSeedSameTextAndGreedyIsRepeatable() {
        GenerationOptions sampled = raw(16).temperature(1.0).seed(5).build();
        assertEquals(model.generate("hello", sampled, t -> { }).text(), model.generate("hello", sampled, t -> { }).text());
        GenerationOptions greedy = raw(16).temperature(0).build();
        GenerationResult first = model.generate("hello", greedy, t -> { });
        assertEquals(first.text(), model.generate("hello", greedy, t -> { }).text());
        assertEquals(FinishReason.LENGTH, first.finishReason());
        assertEquals(16, first.generatedTokens());
        assertTrue(first.prefillTokensPerSecond() > 0 && first.decodeTokensPerSecond() > 0);
    }

    @Test
    void streamedPiecesAddUpToTheResult() {
        StringBuilder streamed = new StringBuilder();
        GenerationResult r = model.generate("stream me", raw(20).temperature(0).build(), streamed::append);
        assertEquals(r.text(), streamed.toString());
        assertFalse(r.text().isEmpty());
    }

    @Test
    void promptPlusMaxTokensBeyondTheContextIsRefusedWithBothNumbers() {
        int promptTokens = model.tokenizer().encode("a b c d e").length;
        ContextLengthExceededException e = assertThrows(ContextLengthExceededException.class,
                () -> model.generate("a b c d e", raw(192).build(), t -> { }));
        assertEquals(192, e.contextLength());
        assertEquals(promptTokens + 192, e.requiredTokens());
        assertTrue(e.getMessage().contains("192"), e.getMessage());
        // Exactly at the limit is fine.
        GenerationResult r = model.generate("a b c d e", raw(192 - promptTokens).temperature(0).build(), t -> { });
        assertEquals(192 - promptTokens, r.generatedTokens());
    }

    @Test
    void cancellationStopsWithinOneToken() {
        AtomicBoolean cancelled = new AtomicBoolean();
        AtomicInteger piecesAfterCancel = new AtomicInteger();
        AtomicInteger checksAfterCancel = new AtomicInteger();
        GenerationListener listener = new GenerationListener() {
            @Override
            public void onText(String text) {
                if (cancelled.get()) {
                    piecesAfterCancel.incrementAndGet();
                }
                cancelled.set(true); // cancel as soon as the first text arrives
            }

            @Override
            public boolean isCancelled() {
                if (cancelled.get()) {
                    checksAfterCancel.incrementAndGet();
                }
                return cancelled.get();
            }
        };
        GenerationResult r = model.generate("cancel me", raw(100).temperature(0).build(), listener);
        assertEquals(FinishReason.CANCELLED, r.finishReason());
        assertEquals(0, piecesAfterCancel.get());
        assertEquals(1, checksAfterCancel.get(), "the very next check stops generation");
        assertTrue(r.generatedTokens() < 100);
    }

    @Test
    void stopTokenEndsGenerationWithEos() {
        GenerationResult free = model.generate("stop here", raw(12).temperature(0).build(), t -> { });
        // Make the third greedy token a stop token: generation must end there with EOS.
        int[] ids = greedyIds("stop here", 12);
        GenerationResult stopped = model.generate("stop here",
                raw(12).temperature(0).stopTokenIds(new int[] {ids[2]}).build(), t -> { });
        assertEquals(FinishReason.EOS, stopped.finishReason());
        assertTrue(stopped.generatedTokens() <= 3);
        assertTrue(free.text().startsWith(stopped.text()));
    }

    private static int[] greedyIds(String prompt, int n) {
        return JlamaParityTest.greedyTokens(model, model.tokenizer().encode(prompt), n);
    }

    @Test
    void badFoldersFailWithClearMessages() throws IOException {
        Path missing = dir.resolve("does-not-exist");
        IOException e = assertThrows(IOException.class, () -> Model.load(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());

        Path empty = Files.createDirectories(dir.resolve("empty"));
        e = assertThrows(IOException.class, () -> Model.load(empty));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());

        // config.json promises a third layer the weights do not have.
        Path lying = RandomQwen2Checkpoint.builder().layers(2).write(dir.resolve("lying"));
        Path config = lying.resolve("config.json");
        Files.writeString(config, Files.readString(config).replaceFirst("\"num_hidden_layers\"\\s*:\\s*2", "\"num_hidden_layers\": 3"));
        e = assertThrows(IOException.class, () -> Model.load(lying));
        assertTrue(e.getMessage().contains("model.layers.2."), e.getMessage());

        // config.json's intermediate_size disagrees with the MLP weights.
        Path wrongShape = RandomQwen2Checkpoint.builder().intermediateSize(128).write(dir.resolve("shape"));
        Path shapeConfig = wrongShape.resolve("config.json");
        Files.writeString(shapeConfig, Files.readString(shapeConfig)
                .replaceFirst("\"intermediate_size\"\\s*:\\s*128", "\"intermediate_size\": 96"));
        e = assertThrows(IOException.class, () -> Model.load(wrongShape));
        assertTrue(e.getMessage().contains("gate_proj") && e.getMessage().contains("[96, 64]"), e.getMessage());
    }
}
