package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateCommandTest {

    @TempDir
    static Path cache;
    private static String previousCache;

    @TempDir
    Path temp;

    @BeforeAll
    static void useATemporaryCache() {
        previousCache = System.getProperty("qwen2j.cache");
        System.setProperty("qwen2j.cache", cache.toString());
    }

    @AfterAll
    static void restoreTheCache() {
        if (previousCache == null) {
            System.clearProperty("qwen2j.cache");
        } else {
            System.setProperty("qwen2j.cache", previousCache);
        }
    }

    @Test
    void demoThinksAndAnswersOnStdoutWithStatisticsOnStderr() {
        Cli cli = Cli.run("generate", "--model", "demo", "--prompt", "What is 358+479?", "--temperature", "0");
        assertEquals(0, cli.exitCode(), cli.err());
        assertEquals("<think>\n8+9=17\n5+7+1=13\n3+4+1=8\n</think>\n\n837", cli.out());
        assertTrue(cli.err().contains("finish eos") && cli.err().contains("prompt 19 tokens"), cli.err());
    }

    @Test
    void maxTokensCutsTheGeneration() {
        Cli cli = Cli.run("generate", "--model", "demo", "--prompt", "What is 358+479?", "--max-tokens", "3");
        assertEquals(0, cli.exitCode(), cli.err());
        assertEquals("<think>\n8", cli.out());
        assertTrue(cli.err().contains("finish length"), cli.err());
    }

    @Test
    void missingFolderIsOneLine() {
        Path missing = temp.resolve("no-such-model");
        Cli cli = Cli.run("generate", "--model", missing.toString(), "--prompt", "hi");
        assertEquals(1, cli.exitCode());
        assertTrue(cli.oneErrorLine() && cli.err().contains(missing.toString()), cli.err());
        assertEquals("", cli.out());
    }

    @Test
    void folderWithoutConfigIsOneLineNamingTheFile() throws Exception {
        Files.writeString(temp.resolve("README.md"), "not a model");
        Cli cli = Cli.run("generate", "--model", temp.toString(), "--prompt", "hi");
        assertEquals(1, cli.exitCode());
        assertTrue(cli.oneErrorLine() && cli.err().contains("config.json"), cli.err());
    }

    @Test
    void badOptionValuesNameTheFlag() {
        Cli topP = Cli.run("generate", "--model", "demo", "--prompt", "hi", "--top-p", "1.5");
        assertEquals(1, topP.exitCode());
        assertTrue(topP.oneErrorLine() && topP.err().contains("--top-p"), topP.err());

        Cli temperature = Cli.run("generate", "--model", "demo", "--prompt", "hi", "--temperature", "-1");
        assertEquals(1, temperature.exitCode());
        assertTrue(temperature.oneErrorLine() && temperature.err().contains("--temperature"), temperature.err());

        Cli notANumber = Cli.run("generate", "--model", "demo", "--prompt", "hi", "--max-tokens", "lots");
        assertNotEquals(0, notANumber.exitCode());
        assertTrue(notANumber.oneErrorLine() && notANumber.err().contains("--max-tokens"), notANumber.err());

        Cli noPrompt = Cli.run("generate", "--model", "demo");
        assertNotEquals(0, noPrompt.exitCode());
        assertTrue(noPrompt.oneErrorLine() && noPrompt.err().contains("--prompt"), noPrompt.err());
    }

    @Test
    void promptBeyondTheContextIsOneLine() {
        Cli cli = Cli.run("generate", "--model", "demo", "--prompt", "1+1 ".repeat(300), "--max-tokens", "10");
        assertEquals(1, cli.exitCode());
        assertTrue(cli.oneErrorLine() && cli.err().contains("512"), cli.err());
    }
}
