package dev.qwen2j.tensor;

import dev.qwen2j.core.safetensors.DType;

import java.lang.foreign.Arena;
import java.util.List;

/**
 * The operations the Qwen2 forward pass needs, implemented for the CPU here and for CUDA in module
 * {@code cuda}. Activations are row-major F32 blocks of {@code tokens} rows in {@link Buffer}s that the backend
 * owns: {@code tokens == 1} is decode (matrix-vector, bandwidth-bound), more is prefill (matrix-matrix,
 * compute-bound). The KV cache lives in the backend's memory too ({@link #kvPool}), so a forward pass moves only
 * token ids in ({@link #embed}) and logits out ({@link #read}); everything between stays where the backend
 * computes (host arrays for the CPU, device memory for a GPU).
 *
 * <p>Implementations are thread-safe: several sessions may call one backend at once, each on its own buffers.
 */
public interface Backend extends AutoCloseable {

    /** Weights of one linear map prepared for this backend; see {@link #linear(List, List)}. */
    interface LinearWeights {
        int inFeatures();

        int outFeatures();
    }

    /**
     * F32 activations in this backend's memory, allocated by {@link #allocate}. Only the backend that made a
     * buffer may read or write it; the host sees its contents through {@link #read} and {@link #write}.
     */
    interface Buffer extends AutoCloseable {
        /** Floats the buffer holds. */
        int length();

        /** Frees device memory now (a heap array is the garbage collector's); the buffer is unusable afterwards. */
        @Override
        default void close() {
        }
    }

    /** A zeroed buffer of {@code floats} floats, freed by {@link Buffer#close()} or with the backend. */
    Buffer allocate(int floats);

    /** Copies {@code n} floats of host {@code src} from {@code srcOffset} into {@code dst} at {@code dstOffset}. */
    void write(float[] src, int srcOffset, Buffer dst, int dstOffset, int n);

    /** Copies {@code n} floats of {@code src} from {@code srcOffset} into host {@code dst} at {@code dstOffset}. */
    void read(Buffer src, int srcOffset, float[] dst, int dstOffset, int n);

    /** Copies {@code n} floats within this backend's memory (the buffers may be one). */
    void copy(Buffer src, int srcOffset, Buffer dst, int dstOffset, int n);

    /**
     * A pool of {@code pages} zeroed KV pages for one layer, in this backend's memory, seen through {@code table};
     * its memory is freed when {@code arena} closes. Only this backend may read or write its segments.
     */
    KvCacheLayer kvPool(Arena arena, DType dtype, int kvHeads, int headDim, int pages, PageTable table);

    /** Copies page {@code from} of {@code pool} to page {@code to}: keys, values and I8 scales (copy on write). */
    void copyKvPage(KvCacheLayer pool, int from, int to);

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
    void linear(LinearWeights weights, Buffer x, Buffer y, int tokens);

    /**
     * As {@link #linear(LinearWeights, Buffer, Buffer, int)}, every row summed in the same order whatever
     * {@code tokens} is, so that a row's result depends on its own input alone ({@code linear} may take a faster
     * one-token path that sums in another order). A batch of sequences needs it for each sequence to get the same
     * tokens whichever sequences share its steps.
     */
    void linearBatchInvariant(LinearWeights weights, Buffer x, Buffer y, int tokens);

    /** {@code out[t, :] = x[t, :] / sqrt(mean(x[t, :]²) + eps) · weight}, dim = {@code weight.cols()}. */
    void rmsNorm(Buffer x, Tensor weight, float eps, Buffer out, int tokens);

    /**
     * Rotates {@code heads} heads in place, rotate-half layout (element i pairs with i + headDim/2). Head h of
     * token t starts at {@code offset + t·stride + h·headDim}; token t sits at position {@code startPosition + t}.
     */
    void rope(Buffer x, int offset, int stride, int heads, int tokens, int startPosition, RopeTable rope);

    /** {@code out[t, i] = silu(gateUp[t, i]) · gateUp[t, n + i]} for i &lt; n: gate first, then up. */
    void swiGlu(Buffer gateUp, Buffer out, int n, int tokens);

    /** {@code x[i] += delta[i]} for i &lt; n (the residual connection). */
    void add(Buffer x, Buffer delta, int n);

    /**
     * Copies embedding rows {@code tokenIds[t]} of {@code table} into {@code out[t, :]} as F32: the token ids are
     * the one input a forward pass takes from the host.
     */
    void embed(Tensor table, int[] tokenIds, int tokens, Buffer out);

    /**
     * Writes keys and values of {@code tokens} tokens into {@code cache} at positions {@code startPosition..}.
     * Token t's keys start at {@code kOffset + t·stride}, its values at {@code vOffset + t·stride}, each
     * {@code kvHeads·headDim} floats.
     */
    void storeKv(KvCacheLayer cache, Buffer src, int kOffset, int vOffset, int stride, int tokens, int startPosition);

    /**
     * Causal grouped-query attention with an online softmax. Query head h of token t (at {@code qOffset +
     * t·qStride + h·headDim}, position {@code startPosition + t}) attends to KV head {@code h / (heads /
     * kvHeads)} at positions {@code max(0, pos - window + 1)..pos} of {@code cache}, scaled by
     * {@code headDim^-0.5}; the result goes to {@code out} from float {@code outOffset + (t·heads + h)·headDim} on. {@code window <= 0} means no
     * sliding window. The cache must already hold the keys and values of these tokens.
     */
    void attention(Buffer q, int qOffset, int qStride, int heads, KvCacheLayer cache,
                   int tokens, int startPosition, int window, Buffer out, int outOffset);

    /**
     * The biases of a fused map's parts stacked into one vector ({@code starts[p]} = part p's first row,
     * {@code starts[parts]} = all rows); a part without one adds zeros. Null when no part has one.
     *
     * @throws IllegalArgumentException naming the tensor when a bias is not float or not one value per row
     */
    static float[] stackBiases(List<Tensor> biases, List<String> partNames, int[] starts) {
        if (biases == null || biases.stream().allMatch(java.util.Objects::isNull)) {
            return null;
        }
        float[] bias = new float[starts[partNames.size()]];
        for (int p = 0; p < partNames.size(); p++) {
            Tensor b = biases.get(p);
            if (b == null) {
                continue;
            }
            if (b.dtype() != DType.F32 && b.dtype() != DType.F16 && b.dtype() != DType.BF16) {
                throw new IllegalArgumentException(b.name() + ": a bias is F32, F16 or BF16, not " + b.dtype());
            }
            int rows = starts[p + 1] - starts[p];
            if ((long) b.rows() * b.cols() != rows) {
                throw new IllegalArgumentException(b.name() + ": " + b.rows() * (long) b.cols()
                        + " bias values for the " + rows + " rows of " + partNames.get(p));
            }
            System.arraycopy(b.toFloats(), 0, bias, starts[p], rows);
        }
        return bias;
    }

    /** Releases worker threads and device memory; the backend is unusable afterwards. */
    @Override
    void close();
}
