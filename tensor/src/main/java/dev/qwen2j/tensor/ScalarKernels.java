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
    public void matmulPacked(PackedMatrix w, int rowFrom, int rowTo, float[] x, int tokens,
                             float[] y, int yStride, int yColumn, float[] bias) {
        int cols = w.cols();
        float[] row = new float[cols];
        for (int r = rowFrom; r < rowTo; r++) {
            w.dequantize(r, 0, cols, row, 0);
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

    @Override
    public void attention(float[] q, int qOffset, KvCacheLayer cache, int kvHead, int first, int last,
                          float scale, float[] out, int outOffset) {
        int headDim = cache.headDim();
        DType dtype = cache.dtype();
        java.util.Arrays.fill(out, outOffset, outOffset + headDim, 0f);
        float max = Float.NEGATIVE_INFINITY;
        float sum = 0f;
        for (int p = first; p <= last; p++) {
            long base = cache.offset(kvHead, p) / dtype.byteSize();
            float score = 0f;
            for (int d = 0; d < headDim; d++) {
                score += q[qOffset + d] * Numbers.read(cache.keys(), dtype, base + d);
            }
            score *= scale;
            if (score > max) { // a new maximum: rescale what was accumulated against the old one
                float correction = (float) Math.exp(max - score);
                sum *= correction;
                for (int d = 0; d < headDim; d++) {
                    out[outOffset + d] *= correction;
                }
                max = score;
            }
            float weight = (float) Math.exp(score - max);
            sum += weight;
            for (int d = 0; d < headDim; d++) {
                out[outOffset + d] += weight * Numbers.read(cache.values(), dtype, base + d);
            }
        }
        float inverseSum = 1f / sum;
        for (int d = 0; d < headDim; d++) {
            out[outOffset + d] *= inverseSum;
        }
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
