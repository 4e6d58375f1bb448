package dev.qwen2j.model;

import dev.qwen2j.core.config.Qwen2Config;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.Backend;
import dev.qwen2j.tensor.Backend.Buffer;
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
    private final LayerSplit split;
    private final RopeTable rope;
    private final boolean ropeDependsOnLength;
    private final int[] slidingWindow; // per layer; 0 = full attention
    private final float eps;

    Qwen2(Qwen2Config config, Qwen2Weights weights, LayerSplit split) {
        this.config = config;
        this.weights = weights;
        this.split = split;
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

    /**
     * True when the keys of a prompt of {@code length} tokens do not depend on its length: only dynamic NTK RoPE
     * beyond the trained length changes with it. Such a prompt's pages may be reused by a longer one.
     */
    boolean keysIndependentOfLength(int length) {
        return !ropeDependsOnLength || length <= config.maxPositionEmbeddings();
    }

    Qwen2Weights weights() {
        return weights;
    }

    /** The backends the layers compute on, which own the sessions' buffers and KV pages. */
    LayerSplit split() {
        return split;
    }

    /** A fresh session whose cache holds {@code capacity} positions, for one sequence. */
    Session newSession(int capacity, DType kvCacheType) {
        KvCache cache = new KvCache(split, config.numHiddenLayers(), config.numKeyValueHeads(), capacity, config.headDim(),
                kvCacheType);
        return new Session(this, cache, Math.min(PREFILL_BLOCK, capacity), 1, false);
    }

    /**
     * Buffers for a batch of up to {@code sequences} sequences that bring their own caches, prefilling prompts of up
     * to {@code longestPrompt} tokens. Its linear maps are batch invariant ({@link Backend#linearBatchInvariant}): a
     * sequence's logits are the same bits whichever sequences share its steps, even on the steps it decodes alone.
     */
    Session newBatchSession(int sequences, int longestPrompt) {
        return new Session(this, null, Math.min(PREFILL_BLOCK, longestPrompt), sequences, true);
    }

    /**
     * Buffers for a continuous batch of up to {@code sequences} sequences of up to {@code capacity} positions: rows
     * for one prefill block beside one token of every sequence, so that a step is one forward pass.
     */
    Session newContinuousSession(int sequences, int capacity) {
        int block = Math.min(PREFILL_BLOCK, capacity);
        return new Session(this, null, block, sequences, block + sequences, false);
    }

    /**
     * Runs the rows of {@code batch} (token ids in {@code s.tokens}) through every layer, each run at its own
     * positions against its own KV cache, storing their keys and values, and leaves the logits of each run's last
     * row in {@code s.logits}, run r at {@code r·vocab}. The linear maps see all rows at once (one pass over the
     * weights); RoPE, the KV store and attention go run by run.
     */
    void forward(Session s, Batch batch) {
        Qwen2Config c = config;
        int n = batch.rows;
        int hidden = c.hiddenSize();
        int heads = c.numAttentionHeads();
        int kvHeads = c.numKeyValueHeads();
        int qDim = heads * c.headDim();
        int kvDim = kvHeads * c.headDim();
        int qkvDim = qDim + 2 * kvDim;
        for (int r = 0; r < batch.runs; r++) {
            // transformers' dynamic NTK takes its base from the length of one forward call: a prompt's blocks all
            // take the whole prompt's (Batch.ropeLengths), a decode step the sequence so far.
            batch.ropes[r] = ropeFor(batch.ropeLengths[r]);
        }

        Session.Activations a = s.embedding();
        a.backend.embed(weights.embedTokens(), s.tokens, n, a.x);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            a = s.enter(l, a, n);
            Backend backend = a.backend;
            Qwen2Weights.Layer w = weights.layers().get(l);

            // Attention: x += o_proj(attention(rope(q), rope(k), v)) over rmsnorm(x)
            backend.rmsNorm(a.x, w.inputNorm(), eps, a.xb, n);
            linear(s, backend, w.qkv(), a.xb, a.qkv, n);
            for (int r = 0; r < batch.runs; r++) {
                int q = batch.firstRows[r] * qkvDim;
                int count = batch.rowCounts[r];
                int position = batch.positions[r];
                KvCacheLayer kv = batch.caches[r].layer(l);
                backend.rope(a.qkv, q, qkvDim, heads, count, position, batch.ropes[r]);
                backend.rope(a.qkv, q + qDim, qkvDim, kvHeads, count, position, batch.ropes[r]);
                backend.storeKv(kv, a.qkv, q + qDim, q + qDim + kvDim, qkvDim, count, position);
                backend.attention(a.qkv, q, qkvDim, heads, kv, count, position, slidingWindow[l], a.attention,
                        batch.firstRows[r] * qDim);
            }
            linear(s, backend, w.outputProjection(), a.attention, a.xb, n);
            backend.add(a.x, a.xb, n * hidden);

            // MLP: x += down_proj(silu(gate_proj(h)) · up_proj(h)), h = rmsnorm(x)
            backend.rmsNorm(a.x, w.postAttentionNorm(), eps, a.xb, n);
            linear(s, backend, w.gateUp(), a.xb, a.gateUp, n);
            backend.swiGlu(a.gateUp, a.mlp, c.intermediateSize(), n);
            linear(s, backend, w.down(), a.mlp, a.xb, n);
            backend.add(a.x, a.xb, n * hidden);
        }

        // Final norm and lm_head, for the last row of each run only: that is all generation samples from.
        Backend backend = a.backend;
        for (int r = 0; r < batch.runs; r++) {
            backend.copy(a.x, (batch.firstRows[r] + batch.rowCounts[r] - 1) * hidden, a.last, r * hidden, hidden);
        }
        backend.rmsNorm(a.last, weights.norm(), eps, a.lastNormed, batch.runs);
        linear(s, backend, weights.lmHead(), a.lastNormed, a.logits, batch.runs);
        backend.read(a.logits, 0, s.logits, 0, batch.runs * c.vocabSize());
    }

    /** {@code y = W·x} for {@code tokens} rows, batch invariant in a batch session. */
    private static void linear(Session s, Backend backend, Backend.LinearWeights w, Buffer x, Buffer y, int tokens) {
        if (s.batchInvariant) {
            backend.linearBatchInvariant(w, x, y, tokens);
        } else {
            backend.linear(w, x, y, tokens);
        }
    }

    /** The RoPE table for a sequence of {@code length} tokens (only dynamic NTK changes with it). */
    private RopeTable ropeFor(int length) {
        if (ropeDependsOnLength && length > config.maxPositionEmbeddings()) {
            return RopeFrequencies.of(config, length); // dynamic NTK beyond the trained length: a new base
        }
        return rope;
    }
}
