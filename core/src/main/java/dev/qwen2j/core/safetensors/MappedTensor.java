package dev.qwen2j.core.safetensors;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a checkpoint: its name, element type, shape (row-major, outermost first) and a
 * zero-copy slice of the mapped file holding its little-endian bytes.
 *
 * @param name  the Hugging Face name, e.g. {@code model.layers.0.self_attn.q_proj.weight}
 * @param dtype element type
 * @param shape dimensions, outermost first; empty for a scalar
 * @param data  the tensor's bytes inside the file mapping; valid until the checkpoint is closed
 * @param file  the file the bytes live in
 */
public record MappedTensor(String name, DType dtype, long[] shape, MemorySegment data, Path file) {

    public MappedTensor {
        shape = shape.clone();
    }

    /** The shape (a copy: the record stays immutable). */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements: the product of the shape (1 for a scalar). */
    public long elementCount() {
        long count = 1;
        for (long dim : shape) {
            count *= dim;
        }
        return count;
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Dimension {@code i}, outermost first. */
    public long dim(int i) {
        return shape[i];
    }

    /** Size in bytes of the data. */
    public long byteSize() {
        return data.byteSize();
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
