package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code qwen2j quantize}: a folder every command loads as int8 and inspect describes; bad options are one line. */
class QuantizeCommandTest {

    @TempDir
    Path temp;

    @Test
    void writesAFolderThatInspectDescribesAndGenerateRuns() throws Exception {
        Path model = RandomQwen2Checkpoint.builder().hiddenSize(64).layers(1).vocabSize(151936).write(temp.resolve("m"));
        Path out = temp.resolve("m-int8");
        Cli quantize = Cli.run("quantize", "--model", model.toString(), "--out", out.toString(), "--group-size", "channel",
                "--threads", "2");
        assertEquals(0, quantize.exitCode(), quantize.err());
        assertTrue(quantize.out().contains("quantized 8 matrices to int8 channel"), quantize.out());

        Cli inspect = Cli.run("inspect", "--model", out.toString());
        assertEquals(0, inspect.exitCode(), inspect.err());
        assertTrue(inspect.out().contains("quantization compressed-tensors int-quantized: group_0 int8 channel"),
                inspect.out());
        assertTrue(Cli.run("inspect", "--model", model.toString()).out().contains("quantization none"));

        Cli generate = Cli.run("generate", "--model", out.toString(), "--prompt", "hi", "--max-tokens", "3", "--threads", "1");
        assertEquals(0, generate.exitCode(), generate.err());
    }

    @Test
    void badOptionsAreOneLine() throws Exception {
        Path model = RandomQwen2Checkpoint.builder().hiddenSize(64).layers(1).vocabSize(151936).write(temp.resolve("m"));
        Cli group = Cli.run("quantize", "--model", model.toString(), "--out", temp.resolve("a").toString(),
                "--group-size", "48");
        assertEquals(1, group.exitCode());
        assertTrue(group.oneErrorLine() && group.err().contains("group size 48 does not divide"), group.err());
        assertFalse(Files.exists(temp.resolve("a")));

        Cli word = Cli.run("quantize", "--model", model.toString(), "--out", temp.resolve("b").toString(),
                "--group-size", "lots");
        assertTrue(word.oneErrorLine() && word.err().contains("--group-size lots"), word.err());

        Cli type = Cli.run("quantize", "--model", model.toString(), "--out", temp.resolve("c").toString(), "--type", "int4");
        assertTrue(type.oneErrorLine() && type.err().contains("--type int4"), type.err());

        Cli exists = Cli.run("quantize", "--model", model.toString(), "--out", model.toString());
        assertTrue(exists.oneErrorLine() && exists.err().contains("exists"), exists.err());
    }
}
