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

    @Test
    void samplesPrintEachAnswerThenTheMajorityOnTheLastLine() {
        Cli cli = Cli.run("generate", "--model", "demo", "--prompt", "What is 358+479?", "--samples", "5",
                "--temperature", "1", "--seed", "3");
        assertEquals(0, cli.exitCode(), cli.err());
        var lines = cli.out().lines().toList();
        assertEquals(6, lines.size(), cli.out());
        for (int i = 0; i < 5; i++) {
            assertTrue(lines.get(i).startsWith("sample " + (i + 1) + ": "), cli.out());
        }
        assertEquals("837", lines.getLast(), cli.out());
        assertTrue(cli.err().contains("5 samples") && cli.err().contains("majority"), cli.err());
    }

    @Test
    void thinkingCanBeHiddenAndBudgeted() {
        Cli hidden = Cli.run("generate", "--model", "demo", "--prompt", "What is 358+479?", "--hide-thinking");
        assertEquals(0, hidden.exitCode(), hidden.err());
        assertEquals("837", hidden.out());

        Cli budget = Cli.run("generate", "--model", "demo", "--prompt", "What is 1234+9876?", "--thinking-budget", "4",
                "--show-thinking");
        assertEquals(0, budget.exitCode(), budget.err());
        String think = budget.out().substring(0, budget.out().indexOf("</think>"));
        assertTrue(think.startsWith("<think>") && think.length() <= "<think>".length() + 8, budget.out());
    }

    @Test
    void badReasoningFlagsAreOneLine() {
        Cli both = Cli.run("generate", "--model", "demo", "--prompt", "hi", "--show-thinking", "--hide-thinking");
        assertEquals(1, both.exitCode());
        assertTrue(both.oneErrorLine() && both.err().contains("--hide-thinking"), both.err());

        Cli minAboveMax = Cli.run("generate", "--model", "demo", "--prompt", "hi", "--thinking-budget", "4",
                "--min-thinking", "5");
        assertEquals(1, minAboveMax.exitCode());
        assertTrue(minAboveMax.oneErrorLine() && minAboveMax.err().contains("--min-thinking"), minAboveMax.err());

        Cli noSamples = Cli.run("generate", "--model", "demo", "--prompt", "hi", "--samples", "0");
        assertEquals(1, noSamples.exitCode());
        assertTrue(noSamples.oneErrorLine() && noSamples.err().contains("--samples"), noSamples.err());

        Cli budget = Cli.run("generate", "--model", "demo", "--prompt", "hi", "--thinking-budget", "0");
        assertEquals(1, budget.exitCode());
        assertTrue(budget.oneErrorLine() && budget.err().contains("--thinking-budget"), budget.err());
    }
}
