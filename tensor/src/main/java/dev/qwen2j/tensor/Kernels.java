package dev.qwen2j.tensor;

/**
 * The arithmetic of {@link CpuBackend}, one implementation per instruction set: {@link ScalarKernels} (the
 * reference and the fallback) and {@code VectorKernels} (the Vector API). Each method works on a range a
 * worker owns; splitting work across threads is the backend's job.
 */
interface Kernels {

    /** A short name for logs, e.g. {@code scalar} or {@code vector256}. */
    String name();

    /** The SIMD width these kernels compute at, in bits; 0 for the scalar kernels. */
    int vectorBits();

    /**
     * {@code y[t·yStride + yColumn + r] = W[r]·x[t·W.cols ..] + bias[yColumn + r]} for rows
     * {@code rowFrom <= r < rowTo} of {@code w} and tokens {@code t < tokens}; {@code bias} may be null.
     */
    void matmul(Tensor w, int rowFrom, int rowTo, float[] x, int tokens,
                float[] y, int yStride, int yColumn, float[] bias);

    /**
     * As {@link #matmul}, each token summed as in a block of several tokens even when {@code tokens} is 1 (matmul's
     * one-token path may sum in another order): a row's result does not depend on how many tokens share the call.
     */
    void matmulBlocked(Tensor w, int rowFrom, int rowTo, float[] x, int tokens,
                       float[] y, int yStride, int yColumn, float[] bias);

    /**
     * As {@link #matmul} for a packed matrix: blocks of rows dequantized to F32 once by {@code format} (its fastest
     * conversion at this width), then the F32 kernel.
     */
    void matmulPacked(PackedMatrix w, PackedKernels<?> format, int rowFrom, int rowTo, float[] x, int tokens,
                      float[] y, int yStride, int yColumn, float[] bias);

    /** {@code out[offset + i] = x[offset + i] / sqrt(mean(x²) + eps) · weight[i]} for {@code i < weight.cols()}. */
    void rmsNorm(float[] x, int offset, Tensor weight, float eps, float[] out);

    /** {@code out[outOffset + i] = silu(gateUp[gateOffset + i]) · gateUp[gateOffset + n + i]} for i &lt; n. */
    void swiGlu(float[] gateUp, int gateOffset, int n, float[] out, int outOffset);

    /** {@code x[i] += delta[i]} for {@code from <= i < to}. */
    void add(float[] x, float[] delta, int from, int to);

    /**
     * Pages a row's online softmax takes at once: its running maximum, rescaling and sum are updated once per run of
     * pages, not once per page. Runs start at multiples of it (absolute page numbers), so a row's result does not
     * depend on which other rows or prompt blocks share its call.
     */
    int CHUNK_PAGES = 8;
    /** Score columns of one row of {@link #attendPages}' scratch: {@link #CHUNK_PAGES} pages of slots. */
    int CHUNK_SLOTS = CHUNK_PAGES * KvCacheLayer.PAGE;

    /**
     * Attention with an online softmax over logical pages {@code [firstPage, firstPage + pageCount)} of
     * {@code cache}'s page table (at most {@link #CHUNK_PAGES}), head {@code kvHead}: {@code rows} query rows, row r's
     * query at {@code q[qRows[r]]}; row r sees position p only where {@code lo[r] <= p <= hi[r]}; its scores are
     * {@code scale · q·k}. Each row carries its running maximum {@code m[r]}, running sum {@code l[r]} and
     * unnormalised output {@code acc[r·headDim ..]}; a row that sees no position of these pages keeps them as they
     * are. {@code scores} is scratch of at least {@code rows · CHUNK_SLOTS} floats, rows padded to 8.
     */
    void attendPages(float[] q, int[] qRows, int rows, KvCacheLayer cache, int kvHead, int firstPage, int pageCount,
                     int[] lo, int[] hi, float scale, float[] m, float[] l, float[] acc, float[] scores);

    /** The sum of the F32 values in bytes {@code [from, to)} of {@code data}: a pure read stream, the bandwidth probe. */
    float sum(java.lang.foreign.MemorySegment data, long from, long to);

    /**
     * {@code iterations} rounds of independent fused multiply-adds on values held in registers: the FMA peak
     * probe. Returns a value derived from all of them so that none is optimized away.
     */
    float fmaLoop(long iterations, float multiplier);

    /** Floating-point operations one {@link #fmaLoop} iteration performs (2 per lane per FMA). */
    long flopsPerFmaIteration();
}
