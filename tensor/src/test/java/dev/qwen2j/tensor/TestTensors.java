package dev.qwen2j.tensor;

import dev.qwen2j.core.safetensors.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/** Random tensors in off-heap memory every thread may read (workers read weights too). */
final class TestTensors {

    private TestTensors() {
    }

    static Tensor random(String name, DType dtype, int rows, int cols, Random random) {
        long count = (long) rows * cols;
        // +3 bytes and an odd start: the kernels must not assume aligned weights (safetensors does not align them)
        MemorySegment data = Arena.ofAuto().allocate(count * dtype.byteSize() + 3, 64).asSlice(1, count * dtype.byteSize());
        for (long i = 0; i < count; i++) {
            Numbers.write(data, dtype, i, random.nextFloat() * 2 - 1);
        }
        return new Tensor(name, data, dtype, rows, cols);
    }

    static float[] randomFloats(int n, Random random) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = random.nextFloat() * 2 - 1;
        }
        return values;
    }

    static float element(Tensor t, long index) {
        return Numbers.read(t.data(), t.dtype(), index);
    }
}
