package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The batch command's flags; the job itself is tested in the spark module (this classpath has no Spark). */
class BatchCommandTest {

    @Test
    void badFlagsAreNamedBeforeSparkStarts() {
        Cli keep = Cli.run("batch", "--model", "demo", "--input", "p.jsonl", "--output", "out", "--keep", "some");
        assertEquals(1, keep.exitCode());
        assertTrue(keep.err().contains("--keep must be correct or all, got 'some'"), keep.err());
        Cli samples = Cli.run("batch", "--model", "demo", "--input", "p.jsonl", "--output", "out", "--samples", "0");
        assertTrue(samples.err().contains("--samples must be 1..1024, got 0"), samples.err());
        Cli format = Cli.run("batch", "--model", "demo", "--input", "p.csv", "--output", "out", "--input-format", "csv");
        assertTrue(format.err().contains("--input-format must be jsonl or parquet"), format.err());
        Cli batch = Cli.run("batch", "--model", "demo", "--input", "p.jsonl", "--output", "out", "--batch", "0");
        assertTrue(batch.err().contains("--batch must be 1..4096, got 0"), batch.err());
        Cli budget = Cli.run("batch", "--model", "demo", "--input", "p.jsonl", "--output", "out",
                "--thinking-budget", "-1");
        assertTrue(budget.err().contains("--thinking-budget must be >= 0, got -1"), budget.err());
    }

    @Test
    void withoutSparkOnTheClasspathItSaysHowToRunIt() {
        Cli r = Cli.run("batch", "--model", "demo", "--input", "p.jsonl", "--output", "out");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("batch needs Spark on the classpath"), r.err());
    }
}
