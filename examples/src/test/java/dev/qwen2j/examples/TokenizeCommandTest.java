package dev.qwen2j.examples;

import dev.qwen2j.core.checkpoint.BundledTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizeCommandTest {

    @TempDir
    static Path model;

    @BeforeAll
    static void writeTokenizer() throws Exception {
        BundledTokenizer.copyTo(model);
    }



    @Test
    void printsIdsOnOneLine() {
        // Ids as Hugging Face's tokenizer gives them for Qwen2.5 / Qwen3.
        Cli r = Cli.runWithStdio("Hello world<|im_end|>", "tokenize", "--model", model.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("9707 1879 151645\n", r.out());
    }

    @Test
    void readsAllOfStdinAsOneTextAndDecodesBackExactly() {
        String text = "line one\n\tline two: 你好 👋🏽\n\n";
        Cli ids = Cli.runWithStdio(text, "tokenize", "--model", model.toString());
        assertEquals(0, ids.exitCode(), ids.err());
        assertEquals(1, ids.out().split("\n", -1).length - 1, "one line");
        Cli back = Cli.runWithStdio(ids.out(), "tokenize", "--model", model.toString(), "--decode");
        assertEquals(0, back.exitCode(), back.err());
        assertEquals(text, back.out());
        Cli skip = Cli.runWithStdio("151644 872 198 151645", "tokenize", "--model", model.toString(), "--decode", "--skip-special-tokens");
        assertEquals("user\n", skip.out());
    }

    @Test
    void demoModelBringsTheSameTokenizer() {
        Cli r = Cli.runWithStdio("Hello world", "tokenize", "--model", "demo");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("9707 1879\n", r.out());
    }

    @Test
    void emptyInputGivesAnEmptyLine() {
        assertEquals("\n", Cli.runWithStdio("", "tokenize", "--model", model.toString()).out());
    }

    @Test
    void badInputIsAClearError(@TempDir Path empty) {
        Cli notId = Cli.runWithStdio("12 abc", "tokenize", "--model", model.toString(), "--decode");
        assertEquals(1, notId.exitCode());
        assertTrue(notId.err().contains("'abc'"), notId.err());
        Cli outOfRange = Cli.runWithStdio("999999", "tokenize", "--model", model.toString(), "--decode");
        assertEquals(1, outOfRange.exitCode());
        assertTrue(outOfRange.err().contains("999999"), outOfRange.err());
        Cli noTokenizer = Cli.runWithStdio("x", "tokenize", "--model", empty.toString());
        assertEquals(1, noTokenizer.exitCode());
        assertTrue(noTokenizer.err().contains("tokenizer.json"), noTokenizer.err());
    }
}
