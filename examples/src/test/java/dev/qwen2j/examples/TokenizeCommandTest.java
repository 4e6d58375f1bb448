package dev.qwen2j.examples;

import dev.qwen2j.core.checkpoint.BundledTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
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

    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(String stdin, String... args) {
        InputStream oldIn = System.in;
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            var commandLine = Main.commandLine();
            commandLine.setErr(new PrintWriter(err, true));
            int code = commandLine.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setIn(oldIn);
            System.setOut(oldOut);
        }
    }

    @Test
    void printsIdsOnOneLine() {
        // Ids as Hugging Face's tokenizer gives them for Qwen2.5 / Qwen3.
        Run r = run("Hello world<|im_end|>", "tokenize", "--model", model.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("9707 1879 151645\n", r.out());
    }

    @Test
    void readsAllOfStdinAsOneTextAndDecodesBackExactly() {
        String text = "line one\n\tline two: 你好 👋🏽\n\n";
        Run ids = run(text, "tokenize", "--model", model.toString());
        assertEquals(0, ids.exitCode(), ids.err());
        assertEquals(1, ids.out().split("\n", -1).length - 1, "one line");
        Run back = run(ids.out(), "tokenize", "--model", model.toString(), "--decode");
        assertEquals(0, back.exitCode(), back.err());
        assertEquals(text, back.out());
        Run skip = run("151644 872 198 151645", "tokenize", "--model", model.toString(), "--decode", "--skip-special-tokens");
        assertEquals("user\n", skip.out());
    }

    @Test
    void demoModelBringsTheSameTokenizer() {
        Run r = run("Hello world", "tokenize", "--model", "demo");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("9707 1879\n", r.out());
    }

    @Test
    void emptyInputGivesAnEmptyLine() {
        assertEquals("\n", run("", "tokenize", "--model", model.toString()).out());
    }

    @Test
    void badInputIsAClearError(@TempDir Path empty) {
        Run notId = run("12 abc", "tokenize", "--model", model.toString(), "--decode");
        assertEquals(1, notId.exitCode());
        assertTrue(notId.err().contains("'abc'"), notId.err());
        Run outOfRange = run("999999", "tokenize", "--model", model.toString(), "--decode");
        assertEquals(1, outOfRange.exitCode());
        assertTrue(outOfRange.err().contains("999999"), outOfRange.err());
        Run noTokenizer = run("x", "tokenize", "--model", empty.toString());
        assertEquals(1, noTokenizer.exitCode());
        assertTrue(noTokenizer.err().contains("tokenizer.json"), noTokenizer.err());
    }
}
