package dev.qwen2j.cuda;

import java.util.List;

/**
 * Grid and block sizes of one kernel launch, plus its dynamic shared memory in bytes: the geometry each kernel of
 * {@code qwen2j.cu} documents, in one place for the backend and for {@code KernelIndexEmulationTest}.
 */
public record Launch(int gridX, int gridY, int blockX, int sharedBytes) {

    static final int WARP = 32;
    /** Rows per block of the matvec kernels: one warp each, 8 warps. */
    static final int MATVEC_ROWS_PER_BLOCK = 8;
    /** Rows of x one matvec block serves from one read of its weights ({@code MATVEC_TOKENS} in the .cu). */
    public static final int MATVEC_TOKENS = 8;
    /** Warps of an attention block ({@code ATTN_WARPS}). */
    public static final int ATTENTION_WARPS = 8;
    /** The largest head the attention kernels take ({@code MAX_HEAD_DIM}). */
    public static final int MAX_HEAD_DIM = 256;

    /** {@code rms_norm}: a block of 256 per token. */
    public static Launch rmsNorm(int tokens) {
        return new Launch(tokens, 1, 256, 0);
    }

    /** {@code rope}: a block of 256 per token, striding its heads·headDim/2 pairs. */
    public static Launch rope(int tokens) {
        return new Launch(tokens, 1, 256, 0);
    }

    /** {@code add}: a thread per element. */
    public static Launch elementwise(int n) {
        return new Launch((n + 255) / 256, 1, 256, 0);
    }

    /** {@code swiglu}: a thread per output element of {@code tokens} rows of {@code n}. */
    public static Launch swiglu(int n, int tokens) {
        return elementwise(Math.multiplyExact(n, tokens));
    }

    /** {@code embed_bf16}, {@code embed_f32}: a block of 256 per token. */
    public static Launch embed(int tokens) {
        return new Launch(tokens, 1, 256, 0);
    }

    /** {@code matvec_bf16}, {@code matvec_int8}: a warp per row, a grid row per {@link #MATVEC_TOKENS} tokens. */
    public static Launch matvec(int rows, int tokens) {
        return new Launch((rows + MATVEC_ROWS_PER_BLOCK - 1) / MATVEC_ROWS_PER_BLOCK,
                (tokens + MATVEC_TOKENS - 1) / MATVEC_TOKENS, MATVEC_ROWS_PER_BLOCK * WARP, 0);
    }

    /** {@code store_kv_f32}, {@code store_kv_bf16}, {@code store_kv_i8}: a block of 128 per (token, KV head). */
    public static Launch storeKv(int tokens, int kvHeads) {
        return new Launch(tokens, kvHeads, 128, 0);
    }

    /** {@code attention_f32}, {@code attention_bf16}, {@code attention_i8}: a block per (query head, token). */
    public static Launch attention(int heads, int tokens, int headDim) {
        if (headDim > MAX_HEAD_DIM || headDim % 2 != 0) {
            throw new IllegalArgumentException("attention kernels take an even head_dim up to " + MAX_HEAD_DIM
                    + ", not " + headDim);
        }
        return new Launch(heads, tokens, ATTENTION_WARPS * WARP, 0);
    }

    /** {@code argmax}, {@code softmax_stats}: one block of 1024. */
    public static Launch argmax() {
        return new Launch(1, 1, 1024, 0);
    }

    /** The kernels {@code qwen2j.ptx} must define. */
    public static final List<String> KERNELS = List.of("rms_norm", "rope", "swiglu", "add", "embed_bf16",
            "embed_f32", "matvec_bf16", "matvec_int8", "store_kv_f32", "store_kv_bf16", "store_kv_i8",
            "attention_f32", "attention_bf16", "attention_i8", "argmax", "softmax_stats", "to_bf16", "add_bias");
}
