package dev.qwen2j.core.safetensors;

import dev.qwen2j.core.safetensors.SafetensorsWriter.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;

class SafetensorsWriterTest {

    @TempDir
    Path dir;

    /** A file with one F32 tensor {@code w} = [1, 2, 3]. */
    static Path tiny(Path file) throws IOException {
        SafetensorsWriter.write(file, List.of(TensorData.ofFloats("w", new long[] {3}, new float[] {1, 2, 3})));
        return file;
    }

    @Test
    void refusesSizeMismatchDuplicatesAndReservedNames() {
        assertThrows(IllegalArgumentException.class, () -> TensorData.ofFloats("w", new long[] {4}, new float[3]));
        assertThrows(IllegalArgumentException.class,
                () -> TensorData.of("w", DType.F16, new long[] {2}, MemorySegment.ofArray(new byte[3])));
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(dir.resolve("a.safetensors"),
                List.of(TensorData.ofFloats("w", new long[] {1}, new float[1]),
                        TensorData.ofFloats("w", new long[] {1}, new float[1]))));
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(dir.resolve("b.safetensors"),
                List.of(TensorData.ofFloats("__metadata__", new long[] {1}, new float[1]))));
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(dir.resolve("c.safetensors"),
                List.of(new TensorData("neg", DType.F32, new long[] {-1}, t -> { }))));
    }
}
