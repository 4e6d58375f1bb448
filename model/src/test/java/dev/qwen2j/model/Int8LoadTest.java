package dev.qwen2j.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.quant.Int8FolderWriter;
import dev.qwen2j.quant.Quantization;
import dev.qwen2j.quant.QuantizationProgress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading int8: what qwen2j recognises by itself, and the folders and options it refuses, naming tensor or field. */
class Int8LoadTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Path bf16() throws IOException {
        return RandomQwen2Checkpoint.builder().hiddenSize(64).intermediateSize(96).layers(1).heads(4).kvHeads(2)
                .vocabSize(151936).dtype(DType.BF16).write(dir.resolve("bf16"));
    }

    private static ModelOptions options() {
        return ModelOptions.builder().threads(1).contextLength(32).build();
    }

    @Test
    void aQuantizedFolderLoadsAsInt8WithFewerBytes() throws IOException {
        Path source = bf16();
        Path int8 = dir.resolve("int8");
        Int8FolderWriter.write(source, int8, Quantization.INT8, 1, QuantizationProgress.NONE);
        try (Model a = Model.load(source, options()); Model b = Model.load(int8, options())) {
            assertEquals("bf16", a.weightsFormat());
            assertEquals("int8", b.weightsFormat());
            assertTrue(b.weightBytes() < 0.6 * a.weightBytes(), b.weightBytes() + " vs " + a.weightBytes());
            assertEquals(4, b.generate("hi", GenerationOptions.builder().maxTokens(4).temperature(0)
                    .stopTokenIds(Integer.MAX_VALUE).build(), t -> { }).generatedTokens());
        }
    }

    @Test
    void int8TensorsWithoutAQuantizationConfigAreRefused() throws IOException {
        Path int8 = dir.resolve("int8");
        Int8FolderWriter.write(bf16(), int8, Quantization.INT8, 1, QuantizationProgress.NONE);
        editConfig(int8, config -> config.remove("quantization_config"));
        IOException e = assertThrows(IOException.class, () -> Model.load(int8, options()));
        assertTrue(e.getMessage().contains("has dtype I8") && e.getMessage().contains("quantization_config"), e.getMessage());
    }

    @Test
    void anUnsupportedSchemeNamesItsField() throws IOException {
        Path int8 = dir.resolve("int8");
        Int8FolderWriter.write(bf16(), int8, Quantization.INT8, 1, QuantizationProgress.NONE);
        editConfig(int8, config -> ((ObjectNode) config.get("quantization_config").get("config_groups").get("group_0")
                .get("weights")).put("num_bits", 4));
        IOException e = assertThrows(IOException.class, () -> Model.load(int8, options()));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("weights.num_bits"), e.getMessage());
    }

    @Test
    void partsOfOneFusedMapInTwoFormatsAreRefusedUnlessQuantizingTheRest() throws IOException {
        Path int8 = dir.resolve("int8");
        Int8FolderWriter.write(bf16(), int8, Quantization.INT8, 1, QuantizationProgress.NONE);
        // k_proj claimed float by the ignore list while stored int8: the scheme and the tensors disagree
        editConfig(int8, config -> ((ArrayNode) config.get("quantization_config").get("ignore"))
                .add("re:.*self_attn\\.k_proj"));
        IOException e = assertThrows(IOException.class, () -> Model.load(int8, options()));
        assertTrue(e.getMessage().contains("k_proj.weight has dtype I8"), e.getMessage());
    }

    @Test
    void aGroupThatDoesNotDivideTheRowsIsRefused() throws IOException {
        Path source = bf16();
        ModelOptions odd = ModelOptions.builder().threads(1).contextLength(32).quantize(Quantization.int8(48)).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Model.load(source, odd));
        assertTrue(e.getMessage().contains("q_proj.weight") && e.getMessage().contains("group size 48"), e.getMessage());
    }

    private static void editConfig(Path folder, java.util.function.Consumer<ObjectNode> edit) throws IOException {
        File file = folder.resolve("config.json").toFile();
        ObjectNode config = (ObjectNode) JSON.readTree(file);
        edit.accept(config);
        JSON.writeValue(file, config);
    }
}
