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
}
