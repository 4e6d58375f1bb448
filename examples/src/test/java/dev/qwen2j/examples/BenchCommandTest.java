package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchCommandTest {

    @TempDir
    Path temp;

    @Test
    void printsOneJsonLineWithExactlyTheDocumentedKeys() throws Exception {
        Path model = RandomQwen2Checkpoint.builder().hiddenSize(64).layers(2).vocabSize(151936).write(temp.resolve("m"));
        Cli cli = Cli.run("bench", "--model", model.toString(), "--prompt-tokens", "16", "--gen-tokens", "4",
                "--warmup", "0", "--runs", "1", "--threads", "1");
        assertEquals(0, cli.exitCode(), cli.err());
        List<String> lines = cli.out().lines().toList();
        assertEquals(1, lines.size(), cli.out());
        JsonNode json = new ObjectMapper().readTree(lines.getFirst());
        List<String> keys = new ArrayList<>();
        json.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("backend", "device", "weights", "kv_cache", "load_ms", "quantize_ms", "prefill_tok_s", "decode_tok_s", "weight_bytes", "kv_bytes", "peak_rss_mb",
                "read_bandwidth_gb_s", "decode_roofline_pct"), keys);
        assertTrue(json.get("backend").asText().matches("cpu-(vector(128|256|512)|scalar)"), json.toString());
        assertEquals("bf16", json.get("weights").asText());
        assertEquals("cpu", json.get("device").asText());
        assertEquals("f32", json.get("kv_cache").asText());
        for (String key : keys.subList(4, keys.size())) { // the numbers, after backend, device, weights, kv_cache
            assertTrue(json.get(key).isNumber() && json.get(key).asDouble() >= 0, key + " = " + json.get(key));
        }
        assertTrue(json.get("decode_tok_s").asDouble() > 0 && json.get("read_bandwidth_gb_s").asDouble() > 0);
        assertEquals(0, json.get("quantize_ms").asLong(), "nothing quantized: " + json);
        // 2 layers × (K and V) × 2 KV heads × 20 positions, in one 32-position page × head_dim 16 × 4 bytes
        assertEquals(2 * 2 * 2 * 32 * 16 * 4, json.get("kv_bytes").asLong());
    }

    @Test
    void quantizeInt8ReportsInt8WeightsAndFewerBytes() throws Exception {
        Path model = RandomQwen2Checkpoint.builder().hiddenSize(64).layers(1).vocabSize(151936).write(temp.resolve("q"));
        String[] common = {"bench", "--model", model.toString(), "--prompt-tokens", "4", "--gen-tokens", "2",
                "--warmup", "0", "--runs", "1", "--threads", "1"};
        Cli bf16 = Cli.run(common);
        List<String> withQuantize = new ArrayList<>(List.of(common));
        withQuantize.addAll(List.of("--quantize", "int8"));
        Cli int8 = Cli.run(withQuantize.toArray(String[]::new));
        assertEquals(0, int8.exitCode(), int8.err());
        JsonNode a = new ObjectMapper().readTree(bf16.out());
        JsonNode b = new ObjectMapper().readTree(int8.out());
        assertEquals("int8", b.get("weights").asText());
        assertTrue(b.get("quantize_ms").asLong() <= b.get("load_ms").asLong(), "quantizing is part of loading: " + b);
        assertTrue(b.get("weight_bytes").asLong() < 0.6 * a.get("weight_bytes").asLong(), a + " vs " + b);

        List<String> channel = new ArrayList<>(withQuantize);
        channel.addAll(List.of("--group-size", "channel"));
        Cli perRow = Cli.run(channel.toArray(String[]::new));
        assertEquals(0, perRow.exitCode(), perRow.err());
        JsonNode c = new ObjectMapper().readTree(perRow.out());
        assertTrue(c.get("weight_bytes").asLong() < b.get("weight_bytes").asLong(), "channel " + c + " vs group 32 " + b);

        List<String> noQuantize = new ArrayList<>(List.of(common));
        noQuantize.addAll(List.of("--group-size", "channel"));
        Cli alone = Cli.run(noQuantize.toArray(String[]::new));
        assertEquals(1, alone.exitCode());
        assertTrue(alone.oneErrorLine() && alone.err().contains("--group-size"), alone.err());

        withQuantize.set(withQuantize.size() - 1, "int4");
        Cli unsupported = Cli.run(withQuantize.toArray(String[]::new));
        assertEquals(1, unsupported.exitCode());
        assertTrue(unsupported.oneErrorLine() && unsupported.err().contains("--quantize int4"), unsupported.err());
    }

    @Test
    void batchAddsTheBatchAndItsDecodeSpeed() throws Exception {
        Path model = RandomQwen2Checkpoint.builder().hiddenSize(64).layers(1).vocabSize(151936).write(temp.resolve("b"));
        Cli cli = Cli.run("bench", "--model", model.toString(), "--prompt-tokens", "8", "--gen-tokens", "3",
                "--warmup", "0", "--runs", "1", "--threads", "1", "--batch", "3");
        assertEquals(0, cli.exitCode(), cli.err());
        JsonNode json = new ObjectMapper().readTree(cli.out());
        assertEquals(3, json.get("batch").asInt(), json.toString());
        assertTrue(json.get("batch_decode_tok_s").asDouble() > 0, json.toString());
        List<String> keys = new ArrayList<>();
        json.fieldNames().forEachRemaining(keys::add);
        assertEquals(keys.indexOf("decode_tok_s") + 1, keys.indexOf("batch"), keys.toString());

        Cli bad = Cli.run("bench", "--model", model.toString(), "--batch", "0");
        assertEquals(1, bad.exitCode());
        assertTrue(bad.oneErrorLine() && bad.err().contains("--batch"), bad.err());
    }

    @Test
    void aForcedVectorWidthIsTheOneThatRunsAndAnImpossibleOneIsOneLine() throws Exception {
        Path model = RandomQwen2Checkpoint.builder().hiddenSize(64).layers(1).vocabSize(151936).write(temp.resolve("w"));
        String before = System.getProperty("qwen2j.vector.bits");
        try {
            System.setProperty("qwen2j.vector.bits", "128");
            Cli forced = Cli.run("bench", "--model", model.toString(), "--prompt-tokens", "4", "--gen-tokens", "2",
                    "--warmup", "0", "--runs", "1", "--threads", "1");
            assertEquals(0, forced.exitCode(), forced.err());
            assertEquals("cpu-vector128", new ObjectMapper().readTree(forced.out()).get("backend").asText());

            System.setProperty("qwen2j.vector.bits", "96");
            Cli impossible = Cli.run("bench", "--model", model.toString(), "--threads", "1");
            assertEquals(1, impossible.exitCode());
            assertTrue(impossible.oneErrorLine() && impossible.err().contains("-Dqwen2j.vector.bits=96"), impossible.err());
        } finally {
            if (before == null) {
                System.clearProperty("qwen2j.vector.bits");
            } else {
                System.setProperty("qwen2j.vector.bits", before);
            }
        }
    }

    @Test
    void decodeAtDepthAndEveryKvCachePrecision() throws Exception {
        Path model = RandomQwen2Checkpoint.builder().hiddenSize(64).layers(1).vocabSize(151936).write(temp.resolve("d"));
        for (String kv : new String[]{"f32", "bf16", "int8"}) {
            Cli cli = Cli.run("bench", "--model", model.toString(), "--context", "300", "--gen-tokens", "3",
                    "--warmup", "1", "--runs", "2", "--threads", "1", "--kv-cache", kv);
            assertEquals(0, cli.exitCode(), cli.err());
            JsonNode json = new ObjectMapper().readTree(cli.out());
            assertEquals(300, json.get("context").asInt());
            assertEquals(kv, json.get("kv_cache").asText());
            assertTrue(json.get("decode_tok_s").asDouble() > 0 && json.get("prefill_tok_s").asDouble() > 0, cli.out());
            assertEquals(2, cli.err().lines().filter(l -> l.contains("after 300 tokens")).count(), cli.err());
        }
        Cli bad = Cli.run("bench", "--model", model.toString(), "--kv-cache", "fp8");
        assertEquals(1, bad.exitCode());
        assertTrue(bad.oneErrorLine() && bad.err().contains("--kv-cache"), bad.err());
    }

    @Test
    void badInputIsOneLine() {
        Cli missing = Cli.run("bench", "--model", temp.resolve("nothing").toString());
        assertEquals(1, missing.exitCode());
        assertTrue(missing.oneErrorLine() && missing.err().contains("nothing"), missing.err());

        Cli zero = Cli.run("bench", "--model", temp.toString(), "--prompt-tokens", "0");
        assertEquals(1, zero.exitCode());
        assertTrue(zero.oneErrorLine() && zero.err().contains("--prompt-tokens"), zero.err());

        Cli notANumber = Cli.run("bench", "--model", temp.toString(), "--gen-tokens", "x");
        assertNotEquals(0, notANumber.exitCode());
        assertTrue(notANumber.oneErrorLine(), notANumber.err());
    }
}
