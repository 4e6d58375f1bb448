package dev.qwen2j.tensor;

import dev.qwen2j.core.safetensors.DType;

import java.lang.foreign.MemorySegment;

/**
 * A row-major matrix {@code [rows, cols]} over a memory segment (a mapped checkpoint or off-heap memory);
 * a vector is one row. Rows are contiguous; nothing is copied.
 */
public record Tensor(String name, MemorySegment data, DType dtype, int rows, int cols) {

    public Tensor {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException(name + ": negative shape [" + rows + ", " + cols + "]");
        }
        long need = (long) rows * cols * dtype.byteSize();
        if (data.byteSize() < need) {
            throw new IllegalArgumentException(name + ": " + data.byteSize() + " bytes cannot hold "
                    + dtype + " [" + rows + ", " + cols + "] (" + need + " bytes)");
        }
    }

    /** Bytes of one row. */
    public long rowBytes() {
        return (long) cols * dtype.byteSize();
    }

    /** Rows {@code [from, from + count)} as a tensor over the same memory. */
    public Tensor sliceRows(int from, int count) {
        if (from < 0 || count < 0 || from + count > rows) {
            throw new IndexOutOfBoundsException(name + ": rows [" + from + ", " + (from + count) + ") of " + rows);
        }
        return new Tensor(name, data.asSlice(from * rowBytes(), count * rowBytes()), dtype, count, cols);
    }

    /** Element {@code index} (row-major) as F32, for F32, F16 and BF16 tensors. */
    public float get(long index) {
        return Numbers.read(data, dtype, index);
    }

    /** Every element as F32, row-major: a copy, for small tensors such as norms and biases. */
    public float[] toFloats() {
        return Numbers.toFloats(this);
    }
}
