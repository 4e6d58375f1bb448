package dev.qwen2j.examples;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.core.safetensors.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InspectCommandTest {

    @TempDir
    Path dir;



    private static RandomQwen2Checkpoint.Builder small() {
        return RandomQwen2Checkpoint.builder().hiddenSize(32).intermediateSize(64).layers(12).heads(4).kvHeads(2)
                .vocabSize(500);
    }

    @Test
    void showsConfigParametersBytesAndTensors() throws IOException {
        Path folder = small().write(dir.resolve("m"));
        Cli run = Cli.run("inspect", "--model", folder.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertEquals("", run.err());
        // embed 500x32 + per layer (2 norms 64, q 32x32+32, k,v 16x32+16 each, o 32x32, mlp 3x64x32) + norm 32
        long perLayer = 64 + (1024 + 32) + 2 * (512 + 16) + 1024 + 3 * 2048;
        long parameters = 500 * 32 + 12 * perLayer + 32;
        assertTrue(run.out().contains(String.format("parameters  %,d", parameters)), run.out());
        assertTrue(run.out().contains(String.format("BF16    %,d", parameters * 2)), run.out());
        assertTrue(run.out().contains("hidden 32, intermediate 64, layers 12, heads 4 (KV 2, head_dim 8), vocab 500"),
                run.out());
        assertTrue(run.out().contains("temperature 0.7"), run.out());
        assertTrue(run.out().matches("(?s).*model\\.embed_tokens\\.weight\\s+BF16\\s+\\[500, 32].*"), run.out());
        assertTrue(run.out().indexOf("model.layers.2.input_layernorm") < run.out().indexOf("model.layers.10.input_layernorm"),
                "layers listed in numeric order");
        assertTrue(run.out().contains("tensors     " + (2 + 12 * 12)), run.out());
    }

    @Test
    void acceptsShardedFoldersAndSingleFiles() throws IOException {
        Path sharded = small().shards(3).write(dir.resolve("s"));
        Cli run = Cli.run("inspect", "-m", sharded.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("files       3"), run.out());

        Path lone = dir.resolve("lone");
        Files.createDirectories(lone);
        Path file = Files.copy(small().write(dir.resolve("x")).resolve(Checkpoint.SINGLE_FILE), lone.resolve("w.safetensors"));
        run = Cli.run("inspect", "--model", file.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("config      none"), run.out());
    }

    @Test
    void badFoldersExitNonZeroWithOneLineAndNoStackTrace() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertFailsCleanly(Cli.run("inspect", "--model", empty.toString()), "config.json");

        Path corrupt = small().write(dir.resolve("corrupt"));
        Files.write(corrupt.resolve(Checkpoint.SINGLE_FILE), new byte[] {1, 2, 3});
        assertFailsCleanly(Cli.run("inspect", "--model", corrupt.toString()), "model.safetensors");

        Path llama = small().write(dir.resolve("llama"));
        Files.writeString(llama.resolve("config.json"),
                Files.readString(llama.resolve("config.json")).replace("\"qwen2\"", "\"llama\""));
        assertFailsCleanly(Cli.run("inspect", "--model", llama.toString()), "model_type");

        assertFailsCleanly(Cli.run("inspect", "--model", dir.resolve("absent").toString()), "absent");
    }

    @Test
    void inspectsTheDemoModel() {
        Cli run = Cli.run("inspect", "--model", "demo");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("model.embed_tokens.weight"), run.out());
    }

    private static void assertFailsCleanly(Cli run, String expected) {
        assertNotEquals(0, run.exitCode());
        String err = run.err().strip();
        assertTrue(err.startsWith("inspect: ") && err.contains(expected), err);
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack trace: " + err);
    }
}
