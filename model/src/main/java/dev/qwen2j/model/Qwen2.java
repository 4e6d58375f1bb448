package dev.qwen2j.model;

import dev.qwen2j.core.config.Qwen2Config;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.Backend;
import dev.qwen2j.tensor.KvCacheLayer;
import dev.qwen2j.tensor.RopeTable;

/**
 * The Qwen2 decoder as transformers' {@code modeling_qwen2} defines it, one block of tokens at a time against a
 * session's KV cache. Immutable and shared by all sessions: the state lives in {@link Session}.
 */
final class Qwen2 {

    /** Prompt tokens per prefill block: large enough for the matmul kernels to reuse each weight row. */
    static final int PREFILL_BLOCK = 128;

    private final Qwen2Config config;
    private final Qwen2Weights weights;
    private final Backend backend;
    private final RopeTable rope;
    private final boolean ropeDependsOnLength;
    private final int[] slidingWindow; // per layer; 0 = full attention
    private final float eps;

    Qwen2(Qwen2Config config, Qwen2Weights weights, Backend backend) {
        this.config = config;
        this.weights = weights;
        this.backend = backend;
        this.rope = RopeFrequencies.of(config);
        this.ropeDependsOnLength = RopeFrequencies.dependsOnLength(config);
        this.slidingWindow = new int[config.numHiddenLayers()];
        for (int i = 0; i < slidingWindow.length; i++) {
            // transformers: layer i uses sliding-window attention when use_sliding_window and i >= max_window_layers.
            boolean sliding = config.useSlidingWindow() && config.slidingWindow() > 0 && i >= config.maxWindowLayers();
            slidingWindow[i] = sliding ? config.slidingWindow() : 0;
        }
        this.eps = (float) config.rmsNormEps();
    }

    Qwen2Config config() {
        return config;
    }

    Qwen2Weights weights() {
        return weights;
    }

    /** A fresh session whose cache holds {@code capacity} positions. */
    Session newSession(int capacity, DType kvCacheType) {
        return new Session(this, capacity, kvCacheType, PREFILL_BLOCK);
    }

    /**
     * Runs the {@code n} tokens in {@code s.tokens}, at positions {@code position..position+n-1}, through every
     * layer, storing their keys and values, and leaves the logits of the last one in {@code s.logits}.
     * {@code sequenceLength} picks the RoPE table: the length of the whole forward the block belongs to (a prompt's
     * blocks all take the prompt's), as transformers' dynamic NTK computes its base from the positions of one call.
     */
    void forward(Session s, int n, int position, int sequenceLength) {
        Qwen2Config c = config;
        int hidden = c.hiddenSize();
        int heads = c.numAttentionHeads();
        int kvHeads = c.numKeyValueHeads();
        int qDim = heads * c.headDim();
        int kvDim = kvHeads * c.headDim();
        int qkvDim = qDim + 2 * kvDim;
        RopeTable rope = ropeFor(sequenceLength);

        backend.embed(weights.embedTokens(), s.tokens, n, s.x);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            Qwen2Weights.Layer w = weights.layers().get(l);
            KvCacheLayer kv = s.cache.layer(l);

            // Attention: x += o_proj(attention(rope(q), rope(k), v)) over rmsnorm(x)
            backend.rmsNorm(s.x, w.inputNorm(), eps, s.xb, n);
            backend.linear(w.qkv(), s.xb, s.qkv, n);
            backend.rope(s.qkv, 0, qkvDim, heads, n, position, rope);
            backend.rope(s.qkv, qDim, qkvDim, kvHeads, n, position, rope);
            backend.storeKv(kv, s.qkv, qDim, qDim + kvDim, qkvDim, n, position);
            backend.attention(s.qkv, 0, qkvDim, heads, kv, n, position, slidingWindow[l], s.attention);
            backend.linear(w.outputProjection(), s.attention, s.xb, n);
            backend.add(s.x, s.xb, n * hidden);

            // MLP: x += down_proj(silu(gate_proj(h)) · up_proj(h)), h = rmsnorm(x)
            backend.rmsNorm(s.x, w.postAttentionNorm(), eps, s.xb, n);
            backend.linear(w.gateUp(), s.xb, s.gateUp, n);
            backend.swiGlu(s.gateUp, s.mlp, c.intermediateSize(), n);
            backend.linear(w.down(), s.mlp, s.xb, n);
            backend.add(s.x, s.xb, n * hidden);
        }

        // Final norm and lm_head, for the last position only: that is all generation samples from.
        System.arraycopy(s.x, (n - 1) * hidden, s.last, 0, hidden);
        backend.rmsNorm(s.last, weights.norm(), eps, s.lastNormed, 1);
        backend.linear(weights.lmHead(), s.lastNormed, s.logits, 1);
    }

    /** The RoPE table for a sequence of {@code length} tokens (only dynamic NTK changes with it). */
    private RopeTable ropeFor(int length) {
        if (ropeDependsOnLength && length > config.maxPositionEmbeddings()) {
            return RopeFrequencies.of(config, length); // dynamic NTK beyond the trained length: a new base
        }
        return rope;
    }
}
