package dev.qwen2j.tensor;

import dev.qwen2j.core.safetensors.DType;

import java.lang.foreign.MemorySegment;

/**
 * Plain Java loops: the oracle the vector kernels are tested against, and the fallback when
 * {@code jdk.incubator.vector} is not available. Written for clarity, not speed.
 */
final class ScalarKernels implements Kernels {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public int vectorBits() {
        return 0;
    }

    @Override
    public void matmul(Tensor w, int rowFrom, int rowTo, float[] x, int tokens,
                       float[] y, int yStride, int yColumn, float[] bias) {
        int cols = w.cols();
        MemorySegment data = w.data();
        DType dtype = w.dtype();
        for (int t = 0; t < tokens; t++) {
            int xRow = t * cols;
            for (int r = rowFrom; r < rowTo; r++) {
                long wRow = (long) r * cols;
                float sum = 0f;
                for (int k = 0; k < cols; k++) {
                    sum += Numbers.read(data, dtype, wRow + k) * x[xRow + k];
                }
                y[t * yStride + yColumn + r] = bias == null ? sum : sum + bias[yColumn + r];
            }
        }
    }

    @Override
    public void matmulBlocked(Tensor w, int rowFrom, int rowTo, float[] x, int tokens,
                              float[] y, int yStride, int yColumn, float[] bias) {
        matmul(w, rowFrom, rowTo, x, tokens, y, yStride, yColumn, bias); // one order for any number of tokens
    }

    @Override
    public void matmulPacked(PackedMatrix w, PackedKernels<?> format, int rowFrom, int rowTo, float[] x, int tokens,
                             float[] y, int yStride, int yColumn, float[] bias) {
        int cols = w.cols();
        float[] row = new float[cols];
        for (int r = rowFrom; r < rowTo; r++) {
            format.dequantize(w, r, 0, cols, row, 0);
            for (int t = 0; t < tokens; t++) {
                float sum = 0f;
                for (int k = 0; k < cols; k++) {
                    sum += row[k] * x[t * cols + k];
                }
                y[t * yStride + yColumn + r] = bias == null ? sum : sum + bias[yColumn + r];
            }
        }
    }

    @Override
    public void rmsNorm(float[] x, int offset, Tensor weight, float eps, float[] out) {
        int n = weight.cols();
        float sumOfSquares = 0f;
        for (int i = 0; i < n; i++) {
            sumOfSquares += x[offset + i] * x[offset + i];
        }
        float inverseRms = (float) (1.0 / Math.sqrt(sumOfSquares / n + eps));
        for (int i = 0; i < n; i++) {
            out[offset + i] = x[offset + i] * inverseRms * Numbers.read(weight.data(), weight.dtype(), i);
        }
    }

    @Override
    public void swiGlu(float[] gateUp, int gateOffset, int n, float[] out, int outOffset) {
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = Numbers.silu(gateUp[gateOffset + i]) * gateUp[gateOffset + n + i];
        }
    }

    @Override
    public void add(float[] x, float[] delta, int from, int to) {
        for (int i = from; i < to; i++) {
            x[i] += delta[i];
        }
    }

    /** Page by page: the reference online softmax, one update a page. */
    @Override
    public void attendPages(float[] q, int[] qRows, int rows, KvCacheLayer cache, int kvHead, int firstPage, int pageCount,
                            int[] lo, int[] hi, float scale, float[] m, float[] l, float[] acc, float[] scores) {
        for (int p = firstPage; p < firstPage + pageCount; p++) {
            attendPage(q, qRows, rows, cache, kvHead, cache.pages().page(p), p * KvCacheLayer.PAGE, lo, hi, scale, m, l,
                    acc, scores);
        }
    }

    private static void attendPage(float[] q, int[] qRows, int rows, KvCacheLayer cache, int kvHead, int page, int pageStart,
                                   int[] lo, int[] hi, float scale, float[] m, float[] l, float[] acc, float[] scores) {
        int headDim = cache.headDim();
        int slots = KvCacheLayer.PAGE;
        for (int r = 0; r < rows; r++) {
            float rowMax = Float.NEGATIVE_INFINITY;
            for (int s = 0; s < slots; s++) {
                int position = pageStart + s;
                float score = Float.NEGATIVE_INFINITY;
                if (position >= lo[r] && position <= hi[r]) {
                    score = 0f;
                    for (int d = 0; d < headDim; d++) {
                        score += q[qRows[r] + d] * key(cache, page, kvHead, d, s);
                    }
                    score *= scale;
                }
                scores[r * slots + s] = score;
                rowMax = Math.max(rowMax, score);
            }
            if (rowMax == Float.NEGATIVE_INFINITY) {
                continue; // this row sees nothing here
            }
            float newMax = Math.max(m[r], rowMax);
            float correction = (float) Math.exp(m[r] - newMax); // 0 for the first page a row sees
            l[r] *= correction;
            for (int d = 0; d < headDim; d++) {
                acc[r * headDim + d] *= correction;
            }
            for (int s = 0; s < slots; s++) {
                float weight = (float) Math.exp(scores[r * slots + s] - newMax);
                if (weight == 0f) {
                    continue;
                }
                l[r] += weight;
                for (int d = 0; d < headDim; d++) {
                    acc[r * headDim + d] += weight * value(cache, page, kvHead, s, d);
                }
            }
            m[r] = newMax;
        }
    }

    private static float key(KvCacheLayer cache, int page, int kvHead, int d, int slot) {
        float k = Numbers.read(cache.keys(), cache.dtype(), cache.keyIndex(page, kvHead, d) + slot);
        return cache.keyScales() == null ? k
                : k * cache.keyScales().getAtIndex(Numbers.FLOAT, cache.scaleIndex(page, kvHead, slot));
    }

    private static float value(KvCacheLayer cache, int page, int kvHead, int slot, int d) {
        float v = Numbers.read(cache.values(), cache.dtype(), cache.valueIndex(page, kvHead, slot) + d);
        return cache.valueScales() == null ? v
                : v * cache.valueScales().getAtIndex(Numbers.FLOAT, cache.scaleIndex(page, kvHead, slot));
    }

    @Override
    public float sum(MemorySegment data, long from, long to) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        long i = from;
        for (; i + 16 <= to; i += 16) {
            s0 += data.get(Numbers.FLOAT, i);
            s1 += data.get(Numbers.FLOAT, i + 4);
            s2 += data.get(Numbers.FLOAT, i + 8);
            s3 += data.get(Numbers.FLOAT, i + 12);
        }
        for (; i + 4 <= to; i += 4) {
            s0 += data.get(Numbers.FLOAT, i);
        }
        return s0 + s1 + s2 + s3;
    }

    @Override
    public float fmaLoop(long iterations, float multiplier) {
        float a0 = 1f, a1 = 2f, a2 = 3f, a3 = 4f, a4 = 5f, a5 = 6f, a6 = 7f, a7 = 8f;
        for (long i = 0; i < iterations; i++) {
            a0 = Math.fma(a0, multiplier, 1e-3f);
            a1 = Math.fma(a1, multiplier, 1e-3f);
            a2 = Math.fma(a2, multiplier, 1e-3f);
            a3 = Math.fma(a3, multiplier, 1e-3f);
            a4 = Math.fma(a4, multiplier, 1e-3f);
            a5 = Math.fma(a5, multiplier, 1e-3f);
            a6 = Math.fma(a6, multiplier, 1e-3f);
            a7 = Math.fma(a7, multiplier, 1e-3f);
        }
        return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    }

    @Override
    public long flopsPerFmaIteration() {
        return 8 * 2;
    }
}
