package dev.qwen2j.quant;

import dev.qwen2j.tensor.PackedKernels;
import dev.qwen2j.tensor.PackedMatrix;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A symmetric int8 matrix as the kernels want it in memory: the int8 values row-major {@code [rows, cols]} (Hugging
 * Face's {@code [out, in]}, so a decode row is one sequential stream; from a compressed-tensors folder this is the
 * mapped file itself), and the scales as F32 {@code [rows, cols / groupSize]} on the heap (converted from whatever
 * dtype the file stores them in). {@code W[r, k] = weights[r, k] · scales[r, k / groupSize]}.
 *
 * @param groupSize inputs per scale; {@code cols} for one scale per row
 */
public record Int8Matrix(String name, MemorySegment weights, float[] scales, int rows, int cols, int groupSize)
        implements PackedMatrix {

    public Int8Matrix {
        if (rows < 0 || cols <= 0 || groupSize <= 0 || cols % groupSize != 0) {
            throw new IllegalArgumentException(name + ": group size " + groupSize + " does not divide the " + cols
                    + " inputs of a row");
        }
        if (weights.byteSize() < (long) rows * cols) {
            throw new IllegalArgumentException(name + ": " + weights.byteSize() + " bytes cannot hold int8 ["
                    + rows + ", " + cols + "]");
        }
        if (scales.length != (long) rows * (cols / groupSize)) {
            throw new IllegalArgumentException(name + ": " + scales.length + " scales for " + rows + " rows of "
                    + cols / groupSize + " groups");
        }
    }

    /** Scales per row. */
    public int groups() {
        return cols / groupSize;
    }

    /** The int8 value at {@code [row, col]}. */
    public byte value(int row, int col) {
        return weights.get(ValueLayout.JAVA_BYTE, (long) row * cols + col);
    }

    @Override
    public long byteSize() {
        return (long) rows * cols + (long) scales.length * Float.BYTES;
    }

    @Override
    public void dequantize(int row, int k0, int width, float[] out, int offset) {
        long base = (long) row * cols;
        int scaleBase = row * groups();
        for (int k = k0; k < k0 + width; ) {
            int group = k / groupSize;
            int end = Math.min(k0 + width, (group + 1) * groupSize);
            float scale = scales[scaleBase + group];
            for (; k < end; k++) {
                out[offset + k - k0] = weights.get(ValueLayout.JAVA_BYTE, base + k) * scale;
            }
        }
    }

    @Override
    public PackedKernels<?> decodeKernels(int vectorBits) {
        return Int8Decode.forBits(vectorBits);
    }
}
