package dev.qwen2j.model;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * Continuous batching on the batch engine: prompts are admitted between steps and join the running batch at the
 * next one (their prefill runs a block per step beside the others' decoding), and each sample leaves as soon as it
 * finishes, its KV pages back in the pool at once. A prompt admitted with n listeners is prefilled once and decoded
 * as n samples sharing its KV pages, sample i sampling with the options' seed + i.
 *
 * <pre>{@code
 * try (ContinuousBatch batch = model.newContinuousBatch(8)) {
 *     batch.admit(model.prepare("Why is the sky blue?", options), List.of(listener));
 *     while (batch.size() > 0) {
 *         batch.step();               // admit more in between, while hasRoom(...)
 *     }
 * }
 * }</pre>
 *
 * <p>Each sample gets exactly the tokens it would get generated alone. From {@link Model#newContinuousBatch};
 * confined to one thread (listeners are called on it), which must close it.
 */
public final class ContinuousBatch implements AutoCloseable {

    /** One sample's text as it is decoded, as {@link GenerationListener}, and its outcome. */
    public interface Listener extends GenerationListener {
        /** The sample's outcome, after its last text; called on the stepping thread. */
        void onFinish(GenerationResult result);
    }

    private final Model model;
    private final KvPagePool pool;
    private final Session session;
    private final BatchEngine engine;
    private final int capacity;
    private final BooleanSupplier modelClosed;
    private final Map<Sequence, Listener> listeners = new IdentityHashMap<>();
    private boolean closed;

    /** Takes over {@code pool}, and the model's registration of a running generation, which {@link #close()} ends. */
    ContinuousBatch(Model model, Qwen2 qwen2, KvPagePool pool, int maxSequences, int capacity,
                    BooleanSupplier modelClosed) {
        this.model = model;
        this.pool = pool;
        this.capacity = capacity;
        this.modelClosed = modelClosed;
        try {
            this.session = qwen2.newContinuousSession(maxSequences, capacity);
        } catch (RuntimeException | Error e) {
            pool.close();
            throw e;
        }
        this.engine = new BatchEngine(session, qwen2.config().vocabSize(), this::retired);
    }

    /** Sequences decoded at once at most. */
    public int maxSequences() {
        return engine.capacity();
    }

    /** Sequences admitted and not yet finished. */
    public int size() {
        return engine.size();
    }

    /** True when {@code samples} more sequences fit now. */
    public boolean hasRoom(int samples) {
        return samples >= 1 && engine.size() + samples <= engine.capacity();
    }

    /**
     * Admits {@code prompt} as {@code samples.size()} samples, listener i receiving sample i; they join at the next
     * {@link #step()}.
     *
     * @throws IllegalArgumentException when the prompt was prepared by another model, there are no listeners, or
     *                                  more than {@link #maxSequences()}
     * @throws IllegalStateException    when they do not fit now ({@link #hasRoom}) or the batch is closed
     */
    public void admit(PreparedPrompt prompt, List<? extends Listener> samples) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(samples, "samples");
        requireOpen();
        if (prompt.model != model) {
            throw new IllegalArgumentException("prompt: prepared by another model");
        }
        if (samples.isEmpty() || samples.size() > maxSequences()) {
            throw new IllegalArgumentException("samples: between 1 and " + maxSequences() + " listeners, got "
                    + samples.size());
        }
        if (!hasRoom(samples.size())) {
            throw new IllegalStateException(samples.size() + " samples do not fit now: " + size() + " of "
                    + maxSequences() + " sequences are running");
        }
        if (prompt.capacity() > capacity) { // prepared with the model's own context: cannot happen, but cheap to say
            throw new IllegalArgumentException("prompt: " + prompt.capacity() + " positions exceed " + capacity);
        }
        long seed = prompt.options.seed();
        Sequence[] sequences = new Sequence[samples.size()];
        for (int i = 0; i < sequences.length; i++) {
            Listener listener = Objects.requireNonNull(samples.get(i), "samples: a null listener");
            sequences[i] = model.sequence(prompt, pool.newCache(prompt.capacity()), seed + i, listener);
            listeners.put(sequences[i], listener);
        }
        engine.admit(sequences);
    }

    /**
     * One step of every admitted sequence: decoding ones sample a token (those that finish leave, and their
     * listeners hear {@link Listener#onFinish}), and up to one block of waiting prompt tokens is prefilled.
     *
     * @return the sequences this step computed for (0 when the batch is empty)
     * @throws IllegalStateException when the model was closed meanwhile, or the batch is
     */
    public int step() {
        requireOpen();
        if (engine.size() == 0) {
            return 0;
        }
        return engine.step(modelClosed);
    }

    /** KV pages its sequences hold now (for tests: 0 once every sequence has left). */
    int pagesInUse() {
        return pool.allocator().inUse();
    }

    /** The most KV pages its sequences held at once. */
    int peakPagesInUse() {
        return pool.allocator().peakInUse();
    }

    private void retired(Sequence s) {
        listeners.remove(s).onFinish(s.result());
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the batch is closed");
        }
    }

    /** Frees the KV pages and buffers; sequences still in the batch end without {@link Listener#onFinish}. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            for (Sequence s : listeners.keySet()) {
                s.release();
            }
            listeners.clear();
            session.close();
            pool.close();
        } finally {
            model.exit();
        }
    }
}
