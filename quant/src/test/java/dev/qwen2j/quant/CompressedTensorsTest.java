package dev.qwen2j.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.core.safetensors.Checkpoint;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.core.safetensors.MappedTensor;
import dev.qwen2j.core.safetensors.SafetensorsWriter;
import dev.qwen2j.core.safetensors.SafetensorsWriter.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compressed-tensors layout as qwen2j writes and reads it: the tensors and config fields compressed-tensors itself
 * defines (weight I8 [out, in]; weight_scale [out, in / group] or [out, 1]; quantization_config with config_groups,
 * format int-quantized, ignore), written atomically; and every unsupported or broken input refused naming its field
 * or tensor.
 */
class CompressedTensorsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String Q = "model.layers.0.self_attn.q_proj";

    @TempDir
    Path dir;

    private Path randomModel(boolean tied) throws IOException {
        return RandomQwen2Checkpoint.builder().hiddenSize(64).intermediateSize(96).layers(1).heads(4).kvHeads(2)
                .vocabSize(512).dtype(DType.BF16).tiedEmbeddings(tied).write(dir.resolve("bf16-" + tied));
    }

    @Test
    void writesTheCompressedTensorsLayout() throws IOException {
        Path out = dir.resolve("int8");
        Int8FolderWriter.Result result = Int8FolderWriter.write(randomModel(true), out, Quantization.INT8, 2,
                QuantizationProgress.NONE);
        assertEquals(8, result.quantizedMatrices()); // 7 projections and the untied lm_head
        JsonNode config = JSON.readTree(out.resolve("config.json").toFile());
        JsonNode q = config.get("quantization_config");
        assertEquals("compressed-tensors", q.get("quant_method").asText());
        assertEquals("int-quantized", q.get("format").asText());
        assertEquals("compressed", q.get("quantization_status").asText());
        JsonNode weights = q.get("config_groups").get("group_0").get("weights");
        assertEquals(8, weights.get("num_bits").asInt());
        assertEquals("int", weights.get("type").asText());
        assertTrue(weights.get("symmetric").asBoolean());
        assertEquals("group", weights.get("strategy").asText());
        assertEquals(32, weights.get("group_size").asInt());
        assertEquals("Linear", q.get("config_groups").get("group_0").get("targets").get(0).asText());
        assertFalse(config.get("tie_word_embeddings").asBoolean(), "a quantized tied lm_head is written untied");
        assertTrue(Files.exists(out.resolve("tokenizer.json")) && Files.exists(out.resolve("generation_config.json")));
        try (Checkpoint c = Checkpoint.open(out)) {
            MappedTensor w = c.tensor(Q + ".weight");
            assertEquals(DType.I8, w.dtype());
            assertArrayEquals(new long[]{64, 64}, w.shape());
            MappedTensor s = c.tensor(Q + ".weight_scale");
            assertEquals(DType.BF16, s.dtype());
            assertArrayEquals(new long[]{64, 2}, s.shape());
            assertEquals(DType.I8, c.tensor("lm_head.weight").dtype());
            assertEquals(DType.BF16, c.tensor("model.embed_tokens.weight").dtype());
            assertEquals(DType.BF16, c.tensor(Q + ".bias").dtype());
            CompressedTensors read = CompressedTensors.read(out).orElseThrow();
            Int8Matrix m = StoredInt8.load(c, Q, read.groupFor(Q).orElseThrow(), 64, 64);
            assertEquals(32, m.groupSize());
        }
        try (Stream<Path> left = Files.list(dir)) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().contains(".tmp")), "no temporary folder left");
        }
    }

    @Test
    void channelAndFloatLmHead() throws IOException {
        Path out = dir.resolve("int8-channel");
        Int8FolderWriter.write(randomModel(false), out, Quantization.int8(Quantization.CHANNEL).withLmHead(false), 1,
                QuantizationProgress.NONE);
        JsonNode q = JSON.readTree(out.resolve("config.json").toFile()).get("quantization_config");
        assertEquals("channel", q.get("config_groups").get("group_0").get("weights").get("strategy").asText());
        assertEquals("lm_head", q.get("ignore").get(0).asText());
        try (Checkpoint c = Checkpoint.open(out)) {
            assertArrayEquals(new long[]{64, 1}, c.tensor(Q + ".weight_scale").shape());
            assertEquals(DType.BF16, c.tensor("lm_head.weight").dtype());
            CompressedTensors read = CompressedTensors.read(out).orElseThrow();
            assertTrue(read.groupFor("lm_head").isEmpty(), "ignored");
        }
    }

    @Test
    void refusesAnExistingTargetAndLeavesNothingOnFailure() throws IOException {
        Path source = randomModel(true);
        Path existing = Files.createDirectories(dir.resolve("exists"));
        assertThrows(FileAlreadyExistsException.class, () -> Int8FolderWriter.write(source, existing, Quantization.INT8, 1,
                QuantizationProgress.NONE));
        IOException e = assertThrows(IOException.class, () -> Int8FolderWriter.write(source, dir.resolve("bad"),
                Quantization.int8(48), 1, QuantizationProgress.NONE));
        assertTrue(e.getMessage().contains("group size 48") && e.getMessage().contains("_proj.weight"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("bad")));
        try (Stream<Path> left = Files.list(dir)) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().contains(".tmp")), "no temporary folder left");
        }
    }

    // ---------------------------------------------------------------- unsupported configs

    @Test
    void unsupportedConfigsNameTheirField() {
        assertRefused(c -> c.put("quant_method", "gptq"), "quantization_config.quant_method");
        assertRefused(c -> c.put("format", "float-quantized"), "quantization_config.format");
        assertRefused(c -> c.put("quantization_status", "frozen"), "quantization_config.quantization_status");
        assertRefused(c -> c.putObject("kv_cache_scheme").put("num_bits", 8), "quantization_config.kv_cache_scheme");
        assertRefused(c -> weights(c).put("num_bits", 4), "config_groups.group_0.weights.num_bits");
        assertRefused(c -> weights(c).put("symmetric", false), "config_groups.group_0.weights.symmetric");
        assertRefused(c -> weights(c).put("type", "float"), "config_groups.group_0.weights.type");
        assertRefused(c -> weights(c).put("strategy", "block"), "config_groups.group_0.weights.strategy");
        assertRefused(c -> weights(c).put("actorder", "group"), "config_groups.group_0.weights.actorder");
        assertRefused(c -> weights(c).putNull("group_size"), "config_groups.group_0.weights.group_size");
        assertRefused(c -> group(c).putObject("input_activations").put("dynamic", false),
                "config_groups.group_0.input_activations.dynamic");
        assertRefused(c -> group(c).putObject("output_activations").put("num_bits", 8),
                "config_groups.group_0.output_activations");
        assertRefused(c -> c.remove("config_groups"), "quantization_config.config_groups");
    }

    @Test
    void dynamicInt8ActivationsAreAccepted() throws IOException {
        ObjectNode config = CompressedTensors.toJson(Quantization.INT8, List.of());
        ObjectNode input = group(config).putObject("input_activations");
        input.put("num_bits", 8).put("type", "int").put("symmetric", true).put("dynamic", true).put("strategy", "token");
        CompressedTensors parsed = CompressedTensors.parse(config, new CompressedTensors.Fields(Path.of("config.json")));
        assertEquals(CompressedTensors.Strategy.GROUP, parsed.groupFor(Q).orElseThrow().strategy());
    }

    @Test
    void targetsAndIgnoreMatchAsCompressedTensorsDoes() throws IOException {
        ObjectNode config = CompressedTensors.toJson(Quantization.INT8, List.of("lm_head", "re:.*down_proj"));
        group(config).putArray("targets").add("re:model\\.layers\\.\\d+\\.(self_attn|mlp)\\.");
        CompressedTensors parsed = CompressedTensors.parse(config, new CompressedTensors.Fields(Path.of("config.json")));
        assertTrue(parsed.groupFor(Q).isPresent());
        assertTrue(parsed.groupFor("model.layers.3.mlp.down_proj").isEmpty());
        assertTrue(parsed.groupFor("lm_head").isEmpty());
    }

    private static ObjectNode group(ObjectNode config) {
        return (ObjectNode) config.get("config_groups").get("group_0");
    }

    private static ObjectNode weights(ObjectNode config) {
        return (ObjectNode) group(config).get("weights");
    }

    private static void assertRefused(Consumer<ObjectNode> edit, String field) {
        ObjectNode config = CompressedTensors.toJson(Quantization.INT8, List.of("lm_head"));
        edit.accept(config);
        IOException e = assertThrows(IOException.class,
                () -> CompressedTensors.parse(config, new CompressedTensors.Fields(Path.of("config.json"))), field);
        assertTrue(e.getMessage().contains(field), e.getMessage());
    }

    // ---------------------------------------------------------------- broken tensors

    @Test
    void brokenTensorsNameTheTensor() throws IOException {
        Path good = dir.resolve("good");
        Int8FolderWriter.write(randomModel(true), good, Quantization.INT8, 1, QuantizationProgress.NONE);
        assertBroken(good, list -> without(list, Q + ".weight_scale"), Q + ".weight_scale is missing");
        assertBroken(good, list -> replaced(list, Q + ".weight_scale", DType.BF16, new long[]{64, 3}),
                Q + ".weight_scale has shape [64, 3]");
        assertBroken(good, list -> replaced(list, Q + ".weight_scale", DType.I32, new long[]{64, 2}),
                Q + ".weight_scale has dtype I32");
        assertBroken(good, list -> replaced(list, Q + ".weight", DType.BF16, new long[]{64, 64}),
                Q + ".weight has dtype BF16");
        assertBroken(good, list -> with(list, Q + ".weight_zero_point", DType.I8, new long[]{64, 2}, (byte) 3),
                "asymmetric");
    }

    @Test
    void groupThatDoesNotDivideTheRow() throws IOException {
        Path good = dir.resolve("good");
        Int8FolderWriter.write(randomModel(true), good, Quantization.INT8, 1, QuantizationProgress.NONE);
        CompressedTensors config = CompressedTensors.read(good).orElseThrow();
        CompressedTensors.Group odd = new CompressedTensors.Group("group_0", List.of("Linear"),
                CompressedTensors.Strategy.GROUP, 24, false);
        try (Checkpoint c = Checkpoint.open(good)) {
            IOException e = assertThrows(IOException.class, () -> StoredInt8.load(c, Q, odd, 64, 64));
            assertTrue(e.getMessage().contains("group_size 24 does not divide"), e.getMessage());
            assertTrue(config.groupFor(Q).isPresent());
        }
    }

    /** Rewrites {@code folder}'s weights through {@code edit} into a copy and expects loading a q_proj to fail. */
    private void assertBroken(Path folder, UnaryOperator<List<TensorData>> edit, String expected) throws IOException {
        Path broken = Files.createDirectories(dir.resolve("broken-" + Math.abs(expected.hashCode())));
        Files.copy(folder.resolve("config.json"), broken.resolve("config.json"));
        try (Checkpoint c = Checkpoint.open(folder)) {
            List<TensorData> tensors = new ArrayList<>();
            for (MappedTensor t : c.tensors()) {
                tensors.add(TensorData.of(t));
            }
            SafetensorsWriter.write(broken.resolve(Checkpoint.SINGLE_FILE), edit.apply(tensors));
        }
        CompressedTensors config = CompressedTensors.read(broken).orElseThrow();
        try (Checkpoint c = Checkpoint.open(broken)) {
            IOException e = assertThrows(IOException.class,
                    () -> StoredInt8.load(c, Q, config.groupFor(Q).orElseThrow(), 64, 64), expected);
            assertTrue(e.getMessage().contains(expected), e.getMessage());
        }
    }

    private static List<TensorData> without(List<TensorData> list, String name) {
        return list.stream().filter(t -> !t.name().equals(name)).toList();
    }

    private static List<TensorData> replaced(List<TensorData> list, String name, DType dtype, long[] shape) {
        return with(without(list, name), name, dtype, shape, (byte) 1);
    }

    private static List<TensorData> with(List<TensorData> list, String name, DType dtype, long[] shape, byte fill) {
        long bytes = dtype.byteSize() * Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        MemorySegment data = Arena.ofAuto().allocate(bytes);
        data.fill(fill);
        List<TensorData> out = new ArrayList<>(list);
        out.add(TensorData.of(name, dtype, shape, data));
        return out;
    }
}
