package dev.qwen2j.tensor;

import java.util.List;

/**
 * The operations the Qwen2 forward pass needs, implemented for the CPU here and for CUDA in module
 * {@code cuda}. Activations are row-major {@code float[]} blocks of {@code tokens} rows: {@code tokens == 1}
 * is decode (matrix-vector, bandwidth-bound), more is prefill (matrix-matrix, compute-bound).
 *
 * <p>Implementations are thread-safe: several sessions may call one backend at once.
 */
public interface Backend extends AutoCloseable {

    /** Weights of one linear map prepared for this backend; see {@link #linear(List, List)}. */
    interface LinearWeights {
        int inFeatures();

        int outFeatures();
    }

    /** A short name for logs and benchmark output, e.g. {@code cpu-vector512} (Vector API kernels at 512 bits) or {@code cpu-scalar}. */
    String name();

    /** Worker threads this backend computes with. */
    int threads();

    /**
     * Prepares {@code y = x·Wᵀ + b} where W stacks the rows of {@code parts} in order (q/k/v, or gate/up), so
     * that one call, one pass and one hand-off compute them all. All parts share {@code cols} (the input size).
     *
     * @param biases one entry per part, each null or a 1-row tensor of that part's row count; or null for none
     */
    LinearWeights linear(List<Tensor> parts, List<Tensor> biases);

    /**
     * As {@link #linear(List, List)} for matrices of a packed format (int8): one call, one pass, one hand-off for
     * all parts, which must share one format. A backend that cannot run the format says so.
     *
     * @throws UnsupportedOperationException when this backend has no kernels for the format
     */
    default LinearWeights packedLinear(List<? extends PackedMatrix> parts, List<Tensor> biases) {
        throw new UnsupportedOperationException(name() + " cannot run packed weights such as " + parts.getFirst().name());
    }

    /** {@code y[t, :] = W·x[t, :] + b} for {@code t < tokens}; x is {@code [tokens][in]}, y {@code [tokens][out]}. */
    void linear(LinearWeights weights, float[] x, float[] y, int tokens);

    /**
     * As {@link #linear(LinearWeights, float[], float[], int)}, every row summed in the same order whatever
     * {@code tokens} is, so that a row's result depends on its own input alone ({@code linear} may take a faster
     * one-token path that sums in another order). A batch of sequences needs it for each sequence to get the same
     * tokens whichever sequences share its steps.
     */
    void linearBatchInvariant(LinearWeights weights, float[] x, float[] y, int tokens);

    /** {@code out[t, :] = x[t, :] / sqrt(mean(x[t, :]²) + eps) · weight}, dim = {@code weight.cols()}. */
    void rmsNorm(float[] x, Tensor weight, float eps, float[] out, int tokens);

    /**
     * Rotates {@code heads} heads in place, rotate-half layout (element i pairs with i + headDim/2). Head h of
     * token t starts at {@code offset + t·stride + h·headDim}; token t sits at position {@code startPosition + t}.
     */
    void rope(float[] x, int offset, int stride, int heads, int tokens, int startPosition, RopeTable rope);

    /** {@code out[t, i] = silu(gateUp[t, i]) · gateUp[t, n + i]} for i &lt; n: gate first, then up. */
    void swiGlu(float[] gateUp, float[] out, int n, int tokens);

    /** {@code x[i] += delta[i]} for i &lt; n (the residual connection). */
    void add(float[] x, float[] delta, int n);

    /** Copies embedding rows {@code tokenIds[t]} of {@code table} into {@code out[t, :]} as F32. */
    void embed(Tensor table, int[] tokenIds, int tokens, float[] out);

    /**
     * Writes keys and values of {@code tokens} tokens into {@code cache} at positions {@code startPosition..}.
     * Token t's keys start at {@code kOffset + t·stride}, its values at {@code vOffset + t·stride}, each
     * {@code kvHeads·headDim} floats.
     */
    void storeKv(KvCacheLayer cache, float[] src, int kOffset, int vOffset, int stride, int tokens, int startPosition);

    /**
     * Causal grouped-query attention with an online softmax. Query head h of token t (at {@code qOffset +
     * t·qStride + h·headDim}, position {@code startPosition + t}) attends to KV head {@code h / (heads /
     * kvHeads)} at positions {@code max(0, pos - window + 1)..pos} of {@code cache}, scaled by
     * {@code headDim^-0.5}; the result goes to {@code out[t, h·headDim ..]}. {@code window <= 0} means no
     * sliding window. The cache must already hold the keys and values of these tokens.
     */
    void attention(float[] q, int qOffset, int qStride, int heads, KvCacheLayer cache,
                   int tokens, int startPosition, int window, float[] out);

    /** Releases worker threads and device memory; the backend is unusable afterwards. */
    @Override
    void close();
}
