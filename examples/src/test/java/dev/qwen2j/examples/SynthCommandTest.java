package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.config.Qwen2Config;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SynthCommandTest {

    @TempDir
    Path temp;

    @Test
    void writesATinyModelFolder() throws Exception {
        Path out = temp.resolve("tiny");
        Cli cli = Cli.run("synth", "--shape", "tiny", "--out", out.toString(), "--dtype", "f32");
        assertEquals(0, cli.exitCode(), cli.err());
        Qwen2Config config = Qwen2Config.load(out);
        assertEquals(64, config.hiddenSize());
        assertEquals("float32", config.torchDtype());
        assertTrue(Files.exists(out.resolve("model.safetensors")));
        assertTrue(Files.exists(out.resolve("tokenizer.json")));
        try (var leftovers = Files.list(temp)) {
            assertEquals(1, leftovers.count(), "no temporary folder may remain");
        }
    }

    @Test
    void refusesToOverwriteAFolderWithFiles() throws Exception {
        Files.writeString(temp.resolve("keep.txt"), "mine");
        Cli cli = Cli.run("synth", "--shape", "tiny", "--out", temp.toString());
        assertEquals(1, cli.exitCode());
        assertTrue(cli.oneErrorLine(), cli.err());
        assertTrue(cli.err().contains(temp.toString()) && cli.err().contains("not an empty folder"), cli.err());
        assertEquals("mine", Files.readString(temp.resolve("keep.txt")));
    }

    @Test
    void badOptionsGiveOneLineAndNonZeroExit() {
        Cli unknownShape = Cli.run("synth", "--shape", "llama-7b", "--out", temp.resolve("x").toString());
        assertNotEquals(0, unknownShape.exitCode());
        assertTrue(unknownShape.oneErrorLine() && unknownShape.err().contains("llama-7b"), unknownShape.err());

        Cli missingOut = Cli.run("synth", "--shape", "tiny");
        assertNotEquals(0, missingOut.exitCode());
        assertTrue(missingOut.oneErrorLine() && missingOut.err().contains("--out"), missingOut.err());

        Cli badType = Cli.run("synth", "--shape", "tiny", "--out", temp.resolve("y").toString(), "--dtype", "q4");
        assertEquals(1, badType.exitCode());
        assertTrue(badType.oneErrorLine() && badType.err().contains("--dtype"), badType.err());
    }

    @Test
    void verbosePrintsTheStackTrace() throws Exception {
        Files.writeString(temp.resolve("keep.txt"), "mine");
        Cli cli = Cli.run("synth", "--shape", "tiny", "--out", temp.toString(), "--verbose");
        assertEquals(1, cli.exitCode());
        assertTrue(cli.err().contains("\tat "), cli.err());
    }
}
