package dev.qwen2j.tensor;

/**
 * Decode (one token) kernels of a {@link PackedMatrix} format. The input is prepared once per call on the calling
 * thread, before the hand-off to the workers (for int8 × int8: the activations quantized once and reused by every
 * part of a fused map), then read by every worker.
 *
 * @param <I> the prepared input; one reused object per calling thread, so nothing is allocated per token
 */
public interface PackedKernels<I> {

    /** {@code x[0 .. cols)} as {@link #matvec} reads it. */
    I prepare(float[] x, int cols);

    /**
     * {@code W[row, k0 .. k0 + width)} as F32 into {@code out[offset ..]}, for prefill's tiles: by default the
     * matrix's own (scalar) {@link PackedMatrix#dequantize}, overridden by formats with a vector conversion.
     */
    default void dequantize(PackedMatrix w, int row, int k0, int width, float[] out, int offset) {
        w.dequantize(row, k0, width, out, offset);
    }

    /**
     * Tokens {@code [0, tokens)} of {@code x} ({@code [tokens, cols]}) through rows {@code [rowFrom, rowTo)} into
     * {@code y[t · yStride + yColumn + r]} (plus bias) with the format's own prefill kernel, if it has one for
     * {@code w}: false leaves the work to the backend's dequantizing micro-kernel. Like that one, it must sum each
     * (row, token) in one order whatever {@code tokens} is (batch invariance).
     */
    default boolean matmul(PackedMatrix w, int rowFrom, int rowTo, float[] x, int tokens, float[] y, int yStride,
                           int yColumn, float[] bias) {
        return false;
    }

    /** {@code y[yColumn + r] = W[r]·x + bias[yColumn + r]} for {@code rowFrom <= r < rowTo}; {@code bias} may be null. */
    void matvec(PackedMatrix w, int rowFrom, int rowTo, I x, float[] y, int yColumn, float[] bias);
}
