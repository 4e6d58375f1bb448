package dev.qwen2j.tensor;

/**
 * A weight matrix {@code [rows, cols]} stored in a format whose layout and kernels live outside this module (int8
 * in module {@code quant}). {@link CpuBackend} runs it through {@link Backend#packedLinear}: decode with the
 * format's own {@link PackedKernels}, prefill by dequantizing blocks of rows into the F32 micro-kernel.
 */
public interface PackedMatrix {

    String name();

    int rows();

    int cols();

    /** Bytes a decode step reads from this matrix: weights and their scales. */
    long byteSize();

    /** Rows a worker's range must start and end on (its decode layout's tile height); 1 by default. */
    default int rowAlignment() {
        return 1;
    }

    /** Writes {@code W[row, k0 .. k0 + width)} as F32 to {@code out[offset ..]}. */
    void dequantize(int row, int k0, int width, float[] out, int offset);

    /**
     * The decode kernels of this format at {@code vectorBits} (0: the scalar twin). Every matrix of one format
     * returns the same instance for one width, so that the parts of a fused map share one prepared input.
     */
    PackedKernels<?> decodeKernels(int vectorBits);
}
