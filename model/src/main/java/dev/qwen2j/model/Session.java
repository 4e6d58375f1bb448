package dev.qwen2j.model;

import dev.qwen2j.core.config.Qwen2Config;
import dev.qwen2j.core.safetensors.DType;

/**
 * The state of one generation: its KV cache and every scratch buffer the forward pass writes, sized once so that
 * no token allocates. Prefill feeds the prompt in blocks of up to {@link #blockSize()} tokens (the matrix-matrix
 * path); decode feeds one token (the matrix-vector path). One thread at a time; {@link #reset()} makes it reusable
 * for the next generation.
 */
final class Session implements AutoCloseable {

    private final Qwen2 model;
    final KvCache cache;
    private final int blockSize;

    // Activations, row-major [tokens][width]; sized for one block.
    final float[] x;          // residual stream            [block][hidden]
    final float[] xb;         // normed input / projections [block][hidden]
    final float[] qkv;        // q | k | v per token        [block][qDim + 2·kvDim]
    final float[] attention;  // attention output           [block][qDim]
    final float[] gateUp;     // gate | up per token        [block][2·intermediate]
    final float[] mlp;        // silu(gate)·up              [block][intermediate]
    final int[] tokens;       // token ids of the block
    // The last position only: final norm and logits.
    final float[] last;
    final float[] lastNormed;
    final float[] logits;

    private int position;

    Session(Qwen2 model, int capacity, DType kvCacheType, int blockSize) {
        Qwen2Config c = model.config();
        this.model = model;
        this.blockSize = Math.max(1, Math.min(blockSize, capacity));
        int qDim = c.numAttentionHeads() * c.headDim();
        int kvDim = c.numKeyValueHeads() * c.headDim();
        int b = this.blockSize;
        this.x = new float[b * c.hiddenSize()];
        this.xb = new float[b * Math.max(c.hiddenSize(), qDim)];
        this.qkv = new float[b * (qDim + 2 * kvDim)];
        this.attention = new float[b * qDim];
        this.gateUp = new float[b * 2 * c.intermediateSize()];
        this.mlp = new float[b * c.intermediateSize()];
        this.tokens = new int[b];
        this.last = new float[c.hiddenSize()];
        this.lastNormed = new float[c.hiddenSize()];
        this.logits = new float[c.vocabSize()];
        this.cache = new KvCache(c.numHiddenLayers(), c.numKeyValueHeads(), capacity, c.headDim(), kvCacheType);
    }

    /** Tokens a prefill block holds at most. */
    int blockSize() {
        return blockSize;
    }

    /** Positions the KV cache holds. */
    int capacity() {
        return cache.capacity();
    }

    /** Tokens already in the cache; the next token goes to this position. */
    int position() {
        return position;
    }

    /**
     * Runs {@code count} prompt tokens through the model in blocks, appending them to the cache.
     *
     * @return the logits after the last of them (this session's buffer, overwritten by the next call)
     */
    float[] prefill(int[] ids, int count) {
        if (count <= 0) {
            throw new IllegalArgumentException("prefill needs at least one token");
        }
        // transformers runs a prompt in one forward, so every block takes the RoPE table of the whole sequence
        // (only dynamic NTK depends on it), not of the sequence so far.
        int sequenceLength = position + count;
        for (int done = 0; done < count; ) {
            int n = Math.min(blockSize, count - done);
            System.arraycopy(ids, done, tokens, 0, n);
            forward(n, sequenceLength);
            done += n;
        }
        return logits;
    }

    /**
     * Runs one token through the model, appending it to the cache.
     *
     * @return the logits for the next position (this session's buffer)
     */
    float[] decode(int id) {
        tokens[0] = id;
        forward(1, position + 1);
        return logits;
    }

    private void forward(int n, int sequenceLength) {
        if (position + n > cache.capacity()) {
            throw new IllegalStateException("KV cache full: " + position + " + " + n + " tokens > "
                    + cache.capacity() + " positions");
        }
        model.forward(this, n, position, sequenceLength);
        position += n;
    }

    /** Forgets the tokens from {@code newPosition} on; the cache keeps those before it. */
    void rewind(int newPosition) {
        if (newPosition < 0 || newPosition > position) {
            throw new IllegalArgumentException("cannot rewind from position " + position + " to " + newPosition);
        }
        position = newPosition;
    }

    /** Forgets the cached tokens so the session can serve the next generation. */
    void reset() {
        position = 0;
    }

    @Override
    public void close() {
        cache.close();
    }
}
