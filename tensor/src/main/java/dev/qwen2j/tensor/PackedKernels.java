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

    /** {@code y[yColumn + r] = W[r]·x + bias[yColumn + r]} for {@code rowFrom <= r < rowTo}; {@code bias} may be null. */
    void matvec(PackedMatrix w, int rowFrom, int rowTo, I x, float[] y, int yColumn, float[] bias);
}
