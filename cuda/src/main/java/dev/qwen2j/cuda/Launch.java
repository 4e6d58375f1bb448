package dev.qwen2j.cuda;

/** Grid and block sizes of one kernel launch, plus its dynamic shared memory in bytes. */
public record Launch(int gridX, int gridY, int blockX, int sharedBytes) {

    static final int WARP = 32;
    /** Rows per block of the matvec kernels: one warp each, 8 warps. */
    static final int MATVEC_ROWS_PER_BLOCK = 8;

    /** {@code rms_norm}: a block of 256 per token. */
    public static Launch rmsNorm(int tokens) {
        return new Launch(tokens, 1, 256, 0);
    }

    /** {@code rope}: a block per (token, head), half a head of threads. */
    public static Launch rope(int tokens, int heads, int headDim) {
        return new Launch(tokens, heads, headDim / 2, 0);
    }

    /** {@code swiglu}, {@code add}: a thread per element. */
    public static Launch elementwise(int n) {
        return new Launch((n + 255) / 256, 1, 256, 0);
    }

    /** {@code matvec_bf16}, {@code matvec_int8}: a warp per row. */
    public static Launch matvec(int rows) {
        return new Launch((rows + MATVEC_ROWS_PER_BLOCK - 1) / MATVEC_ROWS_PER_BLOCK, 1, MATVEC_ROWS_PER_BLOCK * WARP, 0);
    }

    /** {@code store_kv}: a block per (token, KV head), a thread per dimension. */
    public static Launch storeKv(int tokens, int kvHeads, int headDim) {
        return new Launch(tokens, kvHeads, headDim, 0);
    }

    /** Warps of an {@code attention} block (ATTENTION_WARPS in the kernel). */
    static final int ATTENTION_WARPS = 4;
    /** The largest head the {@code attention} kernel holds (its shared query and accumulators). */
    static final int MAX_HEAD_DIM = 256;

    /** {@code attention}: a block per (token, query head), {@link #ATTENTION_WARPS} warps taking pages in turn. */
    public static Launch attention(int tokens, int heads, int headDim) {
        if (headDim > MAX_HEAD_DIM || headDim % 2 != 0) {
            throw new IllegalArgumentException("the CUDA attention kernel takes an even head_dim up to "
                    + MAX_HEAD_DIM + ", not " + headDim);
        }
        return new Launch(tokens, heads, ATTENTION_WARPS * WARP, 0);
    }

    /** {@code argmax}: one block of 1024. */
    public static Launch argmax() {
        return new Launch(1, 1, 1024, 0);
    }

    /** The kernels {@code qwen2j.ptx} must define. */
    public static final java.util.List<String> KERNELS = java.util.List.of("rms_norm", "rope", "swiglu", "add",
            "embed_bf16", "matvec_bf16", "matvec_int8", "store_kv", "attention", "argmax", "to_bf16", "add_bias");
}
