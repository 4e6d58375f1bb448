package dev.qwen2j.model;

import dev.qwen2j.core.config.Qwen2Config;
import dev.qwen2j.tensor.Backend;
import dev.qwen2j.tensor.Backend.Buffer;

/**
 * The state of one generation: its KV cache and every scratch buffer the forward pass writes, sized once so that
 * no token allocates. Prefill feeds the prompt in blocks of up to {@link #blockSize()} tokens (the matrix-matrix
 * path); decode feeds one token (the matrix-vector path). The buffers can also serve a {@link BatchEngine}: rows of
 * up to {@link #sequences()} sequences, each with its own cache, in one pass. One thread at a time;
 * {@link #reset()} makes it reusable for the next generation.
 */
final class Session implements AutoCloseable {

    private final Qwen2 model;
    final KvCache cache;
    private final int blockSize;
    private final int rows;
    private final int sequences;
    private final Batch single = new Batch(1);
    /** Linear maps sum each row in one order whatever the rows beside it (batches; see Qwen2.newBatchSession). */
    final boolean batchInvariant;

    private final Activations[] byLayer; // the buffers of each layer's backend (one set, or two for a split)
    private final float[] boundary;      // the residual stream crossing a layer split, on the host
    // On the host: what goes in and what comes out of a forward pass.
    final int[] tokens;       // token ids of the block
    final float[] logits;     // [sequences][vocab]

    private int position;

    /**
     * @param cache     this session's own cache, or null for a session whose sequences bring theirs (a batch)
     * @param blockSize prompt tokens per prefill block
     * @param sequences sequences one forward pass serves at most
     * @param batchInvariant linear maps that sum every row alike, however many rows a pass holds (slower for one row)
     */
    Session(Qwen2 model, KvCache cache, int blockSize, int sequences, boolean batchInvariant) {
        this(model, cache, blockSize, sequences, Math.max(blockSize, sequences), batchInvariant);
    }

    /** @param rows rows one forward pass holds; at least {@code blockSize} and {@code sequences} */
    Session(Qwen2 model, KvCache cache, int blockSize, int sequences, int rows, boolean batchInvariant) {
        Qwen2Config c = model.config();
        this.model = model;
        this.blockSize = Math.max(1, blockSize);
        this.sequences = Math.max(1, sequences);
        this.rows = Math.max(rows, Math.max(this.blockSize, this.sequences));
        LayerSplit split = model.split();
        this.byLayer = new Activations[c.numHiddenLayers()];
        Activations first = new Activations(split.of(0), c, this.rows, this.sequences);
        Activations rest = split.isSplit() ? new Activations(split.rest(), c, this.rows, this.sequences) : first;
        for (int l = 0; l < byLayer.length; l++) {
            byLayer[l] = l < split.firstLayers() ? first : rest;
        }
        this.boundary = split.isSplit() ? new float[this.rows * c.hiddenSize()] : null;
        this.tokens = new int[this.rows];
        this.logits = new float[this.sequences * c.vocabSize()];
        this.cache = cache;
        this.batchInvariant = batchInvariant;
    }

    /**
     * Activations in one backend's memory, row-major [rows][width], sized for one block (or one row per sequence,
     * if more).
     */
    static final class Activations {
        final Backend backend;
        final Buffer x;          // residual stream            [block][hidden]
        final Buffer xb;         // normed input / projections [block][hidden]
        final Buffer qkv;        // q | k | v per token        [block][qDim + 2·kvDim]
        final Buffer attention;  // attention output           [block][qDim]
        final Buffer gateUp;     // gate | up per token        [block][2·intermediate]
        final Buffer mlp;        // silu(gate)·up              [block][intermediate]
        // The last row of each sequence only: final norm and logits.
        final Buffer last;       // [sequences][hidden]
        final Buffer lastNormed; // [sequences][hidden]
        final Buffer logits;     // [sequences][vocab]

        Activations(Backend backend, Qwen2Config c, int rows, int sequences) {
            int qDim = c.numAttentionHeads() * c.headDim();
            int kvDim = c.numKeyValueHeads() * c.headDim();
            this.backend = backend;
            this.x = backend.allocate(rows * c.hiddenSize());
            this.xb = backend.allocate(rows * Math.max(c.hiddenSize(), qDim));
            this.qkv = backend.allocate(rows * (qDim + 2 * kvDim));
            this.attention = backend.allocate(rows * qDim);
            this.gateUp = backend.allocate(rows * 2 * c.intermediateSize());
            this.mlp = backend.allocate(rows * c.intermediateSize());
            this.last = backend.allocate(sequences * c.hiddenSize());
            this.lastNormed = backend.allocate(sequences * c.hiddenSize());
            this.logits = backend.allocate(sequences * c.vocabSize());
        }

        /** Frees the buffers (device memory; nothing on the CPU). */
        void close() {
            for (Buffer b : new Buffer[] {x, xb, qkv, attention, gateUp, mlp, last, lastNormed, logits}) {
                b.close();
            }
        }
    }

    /** The buffers of the embedding lookup's backend: the last layer's (see {@link LayerSplit#embedding()}). */
    Activations embedding() {
        return byLayer[byLayer.length - 1];
    }

    /**
     * The buffers of layer {@code layer}'s backend, holding the residual stream of {@code rows} rows: at a layer
     * split it crosses from {@code from}'s backend to the next through the host, the one copy a split costs.
     */
    Activations enter(int layer, Activations from, int rows) {
        Activations to = byLayer[layer];
        if (to != from) {
            int floats = rows * model.config().hiddenSize();
            from.backend.read(from.x, 0, boundary, 0, floats);
            to.backend.write(boundary, 0, to.x, 0, floats);
        }
        return to;
    }

    /** Tokens a prefill block holds at most. */
    int blockSize() {
        return blockSize;
    }

    /** Rows one forward pass may hold (tokens of a block, or of all sequences of a batch step together). */
    int rows() {
        return rows;
    }

    /** Sequences whose last rows one forward pass may compute logits for. */
    int sequences() {
        return sequences;
    }

    /** Runs {@code batch} (its token ids already in {@link #tokens}) against the caches it names. */
    void forward(Batch batch) {
        model.forward(this, batch);
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
        single.clear();
        single.add(cache, position, n, sequenceLength);
        model.forward(this, single);
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
        if (cache != null) {
            cache.close();
        }
        Activations first = byLayer[0];
        Activations last = byLayer[byLayer.length - 1];
        first.close();
        if (last != first) {
            last.close();
        }
    }
}
