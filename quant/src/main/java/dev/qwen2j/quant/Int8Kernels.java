package dev.qwen2j.quant;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.Tensor;

/**
 * The int8 decode arithmetic, one implementation per instruction set: {@link ScalarInt8Kernels} (the reference and the
 * fallback) and {@code VectorInt8Kernels} (the Vector API, one copy per width). Each method works on rows a worker owns.
 */
interface Int8Kernels {

    /** {@code y[yColumn + r] = Σ_g scale[r, g] · Σ_{k in g} W[r, k]·x[k] + bias[yColumn + r]}: int8 weights, F32 input. */
    void matvecF32(Int8Matrix w, int rowFrom, int rowTo, float[] x, float[] y, int yColumn, float[] bias);

    /** {@code out[offset + i] = W[row, k0 + i]} as F32 for {@code i < width}: prefill's tiles. */
    void dequantize(Int8Matrix w, int row, int k0, int width, float[] out, int offset);

    /**
     * Prefill and batches of a {@linkplain Int8Matrix#tiled() tiled} matrix with this implementation's own kernel, as
     * {@code PackedKernels.matmul} describes; false (the default) leaves them to the backend's dequantizing kernel.
     */
    default boolean matmul(Int8Matrix w, int rowFrom, int rowTo, float[] x, int tokens, float[] y, int yStride,
                           int yColumn, float[] bias) {
        return false;
    }

    /**
     * {@link #matvecF32} with the input quantized ({@code x.quantized()}, and {@code w.groupSize()} a multiple of
     * {@link Int8Input#BLOCK}): integer dot products per block, scaled by weight scale × input scale. Row-major
     * matrices only: {@link Int8Decode} sends a tiled one to {@link #matvecF32}.
     */
    void matvecInt8(Int8Matrix w, int rowFrom, int rowTo, Int8Input x, float[] y, int yColumn, float[] bias);

    /**
     * One row quantized ({@link Int8Quantizer}'s formula): for each group of {@code group} weights of {@code row},
     * {@code scales[scaleOffset + g]} and {@code out[k]}; every implementation gives the same bits.
     */
    void quantizeRow(float[] row, int group, DType scaleType, float[] scales, int scaleOffset, byte[] out);

    /** Row {@code r} of an F32, BF16 or F16 tensor as F32, as {@link Int8Quantizer#readRow} (with its scratch). */
    default void readRow(Tensor source, int r, float[] out, short[] halves) {
        Int8Quantizer.readRow(source, r, out, halves);
    }
}
