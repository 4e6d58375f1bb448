package dev.qwen2j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwen2j.core.tokenizer.Tokenizer;
import dev.qwen2j.model.BatchRequest;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.GenerationResult;
import dev.qwen2j.model.Model;
import dev.qwen2j.model.ModelOptions;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job in local[2] on the demo model (it adds numbers) over 50 generated sums with k = 4, sampled at
 * temperature 1 with per-sample seeds. Some references are written as {@code \boxed{}}, {@code $…$} or decimals
 * (graded equal), every seventh is deliberately wrong (graded incorrect), and five input rows are malformed.
 */
class BatchGenerateTest {

    private static final int PROBLEMS = 50;
    private static final int K = 4;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path demo;
    static Path input;
    static SparkSession spark;
    /** The first run's rows, by "id/sample", without the wall-time column. */
    static Map<String, List<Object>> reference;
    static Summary summary;

    @BeforeAll
    static void runOnce() throws IOException {
        demo = DemoFolder.unpackInto(dir.resolve("demo"));
        input = writeProblems(dir.resolve("problems.jsonl"));
        spark = SparkSession.builder().master("local[2]").appName("qwen2j test")
                .config("spark.ui.enabled", "false").getOrCreate();
        summary = BatchGenerate.runJob(spark, settings(dir.resolve("out"), K), input.toString(), "jsonl", 3);
        reference = rows(dir.resolve("out"));
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    static JobSettings settings(Path output, int k) {
        return settings(output, k, 0, 8);
    }

    static JobSettings settings(Path output, int k, int thinkingBudget, int batchSize) {
        return new JobSettings(demo.toString(), output.toString(), k, 1.0, null, null, 64, thinkingBudget, 7, false,
                "parquet", 1, batchSize);
    }

    /** 50 sums ("p0".."p49"), references in assorted spellings, every 7th wrong; then 5 malformed rows. */
    static Path writeProblems(Path file) throws IOException {
        Random random = new Random(14);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < PROBLEMS; i++) {
            int a = random.nextInt(1000);
            int b = random.nextInt(1000);
            int sum = a + b + (i % 7 == 3 ? 1 : 0);
            String answer = switch (i % 4) {
                case 0 -> "\"" + sum + "\"";
                case 1 -> "\"\\\\boxed{" + sum + "}\"";
                case 2 -> "\"$" + sum + ".0$\"";
                default -> String.valueOf(sum);
            };
            lines.add("{\"id\":\"p" + i + "\",\"prompt\":\"What is " + a + "+" + b + "?\",\"answer\":" + answer + "}");
        }
        lines.add("{\"id\":\"bad1\",\"prompt\":");
        lines.add("[1,2,3]");
        lines.add("{\"prompt\":\"What is 1+2?\"}");
        lines.add("{\"id\":\"bad4\",\"prompt\":\"What is 1+2?\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        lines.add("{\"id\":\"bad5\",\"messages\":[{\"role\":\"user\"}]}");
        Files.write(file, lines);
        return file;
    }

    /** The rows of an output folder by "id/sample": every column but seconds. */
    static Map<String, List<Object>> rows(Path output) {
        Map<String, List<Object>> byKey = new TreeMap<>();
        for (Row r : spark.read().parquet(output.resolve("rows").toString()).collectAsList()) {
            String key = r.getAs("id") + "/" + r.getAs("sample");
            List<Object> previous = byKey.put(key, Stream.of("id", "sample", "reasoning", "answer_text", "extracted",
                    "correct", "tokens", "seed").map(r::getAs).collect(Collectors.toList()));
            assertTrue(previous == null, "row " + key + " written twice");
        }
        return byKey;
    }

    @Test
    void writesOneGradedRowPerSample() {
        assertEquals(PROBLEMS * K, reference.size());
        for (List<Object> row : reference.values()) {
            int problem = Integer.parseInt(((String) row.get(0)).substring(1));
            String extracted = (String) row.get(4);
            String answerText = (String) row.get(3);
            assertFalse(((String) row.get(2)).isEmpty(), "reasoning of " + row);
            assertEquals(Grader.extract(answerText), extracted);
            assertNotNull(row.get(5));
            if (problem % 7 == 3) {
                assertEquals(false, row.get(5), "a wrong reference is never matched: " + row);
            }
            assertTrue((int) row.get(6) > 0);
        }
    }

    @Test
    void summaryMatchesARecountOfTheRows() throws IOException {
        Map<String, List<List<Object>>> byProblem = new TreeMap<>();
        for (List<Object> row : reference.values()) {
            byProblem.computeIfAbsent((String) row.get(0), id -> new ArrayList<>()).add(row);
        }
        Map<String, String> answers = new HashMap<>();
        for (String line : Files.readAllLines(input)) {
            Problem.Parsed parsed = Problem.parse(line);
            if (parsed.problem() != null) {
                answers.put(parsed.problem().id(), parsed.problem().answer());
            }
        }
        double passAt1 = 0;
        int passAtK = 0;
        int majorityRight = 0;
        for (var e : byProblem.entrySet()) {
            List<List<Object>> samples = new ArrayList<>(e.getValue());
            samples.sort((x, y) -> Integer.compare((int) x.get(1), (int) y.get(1)));
            long correct = samples.stream().filter(s -> Boolean.TRUE.equals(s.get(5))).count();
            passAt1 += (double) correct / K;
            passAtK += correct > 0 ? 1 : 0;
            Map<String, Integer> votes = new HashMap<>();
            String majority = null;
            int best = 0;
            for (List<Object> s : samples) {
                if (s.get(4) != null) {
                    int n = votes.merge(Grader.normalise((String) s.get(4)), 1, Integer::sum);
                    if (n > best) {
                        best = n;
                        majority = (String) s.get(4);
                    }
                }
            }
            majorityRight += Boolean.TRUE.equals(Grader.grade(majority, answers.get(e.getKey()))) ? 1 : 0;
        }
        assertEquals(PROBLEMS, summary.problems());
        assertEquals(PROBLEMS * K, summary.samples());
        assertEquals(passAt1 / PROBLEMS, summary.passAt1(), 1e-12);
        assertEquals((double) passAtK / PROBLEMS, summary.passAtK(), 1e-12);
        assertEquals((double) majorityRight / PROBLEMS, summary.majorityAccuracy(), 1e-12);
        assertEquals(5, summary.rejectedRows());
        assertTrue(summary.tokensPerSecond() > 0);
        // the demo adds well: all but the deliberately wrong references (7 of 50) are right by majority
        assertTrue(summary.majorityAccuracy() >= 0.8, "majority accuracy " + summary.majorityAccuracy());

        JsonNode written = JSON.readTree(dir.resolve("out/summary.json").toFile());
        assertEquals(List.of("problems", "samples", "pass_at_1", "pass_at_k", "majority_accuracy", "rejected_rows",
                "tokens_per_second"), iterate(written.fieldNames()));
        assertEquals(summary.passAt1(), written.get("pass_at_1").asDouble(), 1e-12);
    }

    @Test
    void rejectsCarryTheirReason() throws IOException {
        List<String> reasons = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir.resolve("out/rejects"))) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("part-")).toList()) {
                for (String line : Files.readAllLines(f)) {
                    reasons.add(JSON.readTree(line).get("reason").asText());
                }
            }
        }
        assertEquals(5, reasons.size(), reasons.toString());
        assertTrue(reasons.stream().anyMatch(r -> r.startsWith("not valid JSON")), reasons.toString());
        assertTrue(reasons.contains("not a JSON object"), reasons.toString());
        assertTrue(reasons.contains("missing field 'id'"), reasons.toString());
        assertTrue(reasons.contains("has both 'prompt' and 'messages'; give one"), reasons.toString());
        assertTrue(reasons.contains("messages[0] needs string fields 'role' and 'content'"), reasons.toString());
    }

    @Test
    void samplesDoNotDependOnThePartitioning() throws IOException {
        // a third of the problems on 5 partitions instead of 3: each sample is the same row
        Path subset = dir.resolve("subset.jsonl");
        Files.write(subset, Files.readAllLines(input).subList(0, 16));
        Path out = dir.resolve("out-5");
        BatchGenerate.runJob(spark, settings(out, K), subset.toString(), "jsonl", 5);
        Map<String, List<Object>> again = rows(out);
        assertEquals(16 * K, again.size());
        again.forEach((key, row) -> assertEquals(reference.get(key), row, key));
    }

    @Test
    void samplesDoNotDependOnTheBatchSize() throws IOException {
        // the partition's samples one at a time instead of 8 together: each sample is the same row
        Path subset = dir.resolve("batch-1.jsonl");
        Files.write(subset, Files.readAllLines(input).subList(20, 28));
        Path out = dir.resolve("out-batch-1");
        BatchGenerate.runJob(spark, settings(out, K, 0, 1), subset.toString(), "jsonl", 2);
        Map<String, List<Object>> again = rows(out);
        assertEquals(8 * K, again.size());
        again.forEach((key, row) -> assertEquals(reference.get(key), row, key));
    }

    @Test
    void aRowsSeedReproducesItInTheModelsBatchEngine() throws IOException {
        JobSettings settings = settings(dir.resolve("unused"), K);
        Map<String, String> prompts = new HashMap<>();
        for (String line : Files.readAllLines(input)) {
            Problem.Parsed parsed = Problem.parse(line);
            if (parsed.problem() != null) {
                prompts.put(parsed.problem().id(), parsed.problem().prompt());
            }
        }
        List<String> keys = List.of("p3/0", "p3/3", "p41/2");
        List<BatchRequest> requests = new ArrayList<>();
        for (String key : keys) {
            List<Object> row = reference.get(key);
            GenerationOptions options = settings.generationOptions((String) row.get(0), (int) row.get(1));
            assertEquals(row.get(7), options.seed(), key);
            requests.add(BatchRequest.of(prompts.get((String) row.get(0)), options));
        }
        try (Model model = Model.load(demo, ModelOptions.builder().threads(1).build())) {
            List<GenerationResult> results = model.generateAll(requests, 2);
            for (int i = 0; i < keys.size(); i++) {
                Trace trace = Trace.split(results.get(i).text());
                List<Object> row = reference.get(keys.get(i));
                assertEquals(row.get(2), trace.reasoning(), keys.get(i));
                assertEquals(row.get(3), trace.answer(), keys.get(i));
                assertEquals(row.get(6), results.get(i).generatedTokens(), keys.get(i));
            }
        }
    }

    @Test
    void aThinkingBudgetClosesTheThinkingAndTheAnswerFollows() throws IOException {
        int budget = 3;
        Path subset = dir.resolve("budget.jsonl");
        Files.write(subset, Files.readAllLines(input).subList(0, 12));
        Path out = dir.resolve("out-budget");
        Summary budgeted = BatchGenerate.runJob(spark, settings(out, K, budget, 8), subset.toString(), "jsonl", 2);
        Map<String, List<Object>> rows = rows(out);
        assertEquals(12 * K, rows.size());
        Tokenizer tokenizer = Tokenizer.load(demo);
        int cut = 0;
        for (var e : rows.entrySet()) {
            List<Object> row = e.getValue();
            String reasoning = (String) row.get(2);
            String unlimited = (String) reference.get(e.getKey()).get(2);
            // the same seed samples the same first tokens: the budgeted thought is the start of the unlimited one
            assertTrue(unlimited.startsWith(reasoning), e.getKey() + ": '" + reasoning + "' vs '" + unlimited + "'");
            assertTrue(tokenizer.encode(reasoning).length <= budget, e.getKey() + ": " + reasoning);
            cut += unlimited.length() > reasoning.length() ? 1 : 0;
            // not a cap on the sample: the answer still comes after the closed thought
            assertFalse(((String) row.get(3)).isEmpty(), e.getKey() + " has no answer");
            assertNotNull(row.get(4), e.getKey() + " has no extracted answer");
            assertTrue((int) row.get(6) > budget, e.getKey() + ": " + row.get(6) + " tokens");
        }
        assertTrue(cut > rows.size() / 2, "the budget cut only " + cut + " of " + rows.size() + " thoughts");
        assertEquals(12, budgeted.problems());
    }

    @Test
    void resumesAfterAKilledRun() throws Exception {
        // a first run in its own JVM, one task at a time on 8 partitions, killed once two partitions are done
        Path subset = dir.resolve("resume.jsonl");
        Files.write(subset, Files.readAllLines(input).subList(0, 16));
        Path out = dir.resolve("out-resumed");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add") || a.startsWith("-D") || a.startsWith("--enable")).toList());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), BatchGenerate.class.getName(),
                "--model", demo.toString(), "--input", subset.toString(), "--output", out.toString(),
                "--samples", "2", "--master", "local[1]", "--partitions", "8", "--temperature", "1.0",
                "--max-tokens", "64", "--seed", "7", "--threads", "1"));
        Process first = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("first-run.log").toFile()).start();
        Path done = out.resolve(PartitionFiles.DONE);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (ledgers(done).size() < 2 && first.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        first.destroyForcibly().waitFor();
        Set<String> before = ledgers(done);
        assertTrue(before.size() >= 2 && before.size() < 8,
                "killed after " + before.size() + " partitions: " + Files.readString(dir.resolve("first-run.log")));

        Summary resumed = BatchGenerate.runJob(spark, settings(out, 2), subset.toString(), "jsonl", 3);
        assertTrue(ledgers(done).containsAll(before), "the first run's partitions are kept, not redone");
        assertEquals(16, resumed.problems());
        assertEquals(32, resumed.samples());
        Map<String, List<Object>> rows = rows(out); // fails on a row written twice
        assertEquals(32, rows.size());
        rows.forEach((key, row) -> assertEquals(reference.get(key), row, key));
    }

    @Test
    void aMissingModelNamesTheExecutorAndThePath() throws IOException {
        Path subset = dir.resolve("one.jsonl");
        Files.write(subset, Files.readAllLines(input).subList(0, 1));
        Path missing = dir.resolve("no-such-model");
        JobSettings s = new JobSettings(missing.toString(), dir.resolve("out-missing").toString(), 1, null, null, null,
                8, 0, 0, false, "jsonl", 1, 4);
        Exception e = assertThrows(Exception.class, () -> BatchGenerate.runJob(spark, s, subset.toString(), "jsonl", 1));
        String message = BatchGenerate.rootMessage(e);
        assertTrue(message.contains("executor driver") && message.contains(missing.toString()), message);
    }

    private static Set<String> ledgers(Path done) throws IOException {
        if (!Files.isDirectory(done)) {
            return Set.of();
        }
        try (Stream<Path> files = Files.list(done)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("part-")).collect(Collectors.toSet());
        }
    }

    private static List<String> iterate(java.util.Iterator<String> names) {
        List<String> out = new ArrayList<>();
        names.forEachRemaining(out::add);
        return out;
    }
}
