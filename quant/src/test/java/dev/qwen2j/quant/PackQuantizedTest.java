package dev.qwen2j.quant;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwen2j.core.safetensors.Checkpoint;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.core.safetensors.SafetensorsWriter;
import dev.qwen2j.core.safetensors.SafetensorsWriter.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * compressed-tensors' {@code pack-quantized} at 8 bits, as its {@code pack_to_int32} writes it: value + 128 as an
 * unsigned byte, four per int32 from the low bits up, each row padded to whole int32s, with {@code weight_shape}.
 */
class PackQuantizedTest {

    @TempDir
    Path dir;

    private static final CompressedTensors.Group CHANNEL = new CompressedTensors.Group("group_0", List.of("Linear"),
            CompressedTensors.Strategy.CHANNEL, 0, true);

    @Test
    void unpacksToTheSignedValuesRowByRowDespitePadding() throws IOException {
        byte[][] values = {{-128, -1, 0, 1, 127, 5}, {7, -7, 100, -100, 0, -2}};
        int rows = 2;
        int cols = 6; // two int32 per row, the last one half padding
        MemorySegment packed = Arena.ofAuto().allocate(rows * 2 * 4L);
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < cols; k++) {
                packed.set(ValueLayout.JAVA_BYTE, r * 8L + k, (byte) (values[r][k] + 128));
            }
        }
        MemorySegment shape = Arena.ofAuto().allocate(8);
        shape.set(ValueLayout.JAVA_INT_UNALIGNED, 0, rows);
        shape.set(ValueLayout.JAVA_INT_UNALIGNED, 4, cols);
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, List.of(
                TensorData.of("m.weight_packed", DType.I32, new long[]{rows, 2}, packed),
                TensorData.of("m.weight_shape", DType.I32, new long[]{2}, shape),
                TensorData.ofFloats("m.weight_scale", new long[]{rows, 1}, new float[]{0.5f, 0.25f})));
        try (Checkpoint c = Checkpoint.open(file)) {
            Int8Matrix m = StoredInt8.load(c, "m", CHANNEL, rows, cols);
            for (int r = 0; r < rows; r++) {
                for (int k = 0; k < cols; k++) {
                    assertEquals(values[r][k], m.value(r, k), "row " + r + " col " + k);
                }
            }
            assertArrayEquals(new float[]{0.5f, 0.25f}, m.scales());
            IOException e = assertThrows(IOException.class, () -> StoredInt8.load(c, "m", CHANNEL, rows, 12));
            assertTrue(e.getMessage().contains("m.weight_packed"), e.getMessage());
            IOException wrongShape = assertThrows(IOException.class, () -> StoredInt8.load(c, "m", CHANNEL, rows, 8));
            assertTrue(wrongShape.getMessage().contains("m.weight_shape"), wrongShape.getMessage());
        }
    }

    @Test
    void theFormatIsAccepted() throws IOException {
        ObjectNode config = CompressedTensors.toJson(Quantization.INT8, List.of());
        config.put("format", CompressedTensors.PACKED_FORMAT);
        CompressedTensors parsed = CompressedTensors.parse(config, new CompressedTensors.Fields(Path.of("config.json")));
        assertTrue(parsed.groupFor("model.layers.0.mlp.up_proj").orElseThrow().packed());
    }
}
