package dev.qwen2j.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Decodes a batch of sequences together: every step, each unfinished sequence samples from its own logits (own
 * sampler, own stop conditions), and the tokens all of them queued run through the model in one forward pass, so
 * the weights are read once per step for the whole batch (the linear maps run matrix-matrix over the batch, attention
 * per sequence over its own cache). A sequence that finishes leaves at once; the others go on without waiting for
 * it. A single generation is a batch of one, which is the plain decode path (one row, matrix-vector).
 *
 * <p>The engine works on one {@link Session}'s buffers; sequences bring their own caches. Confined to one thread.
 */
final class BatchEngine {

    private final Session session;
    private final Batch batch;
    private final Sequence[] runOwners;
    private final int vocab;
    private final List<Sequence> active = new ArrayList<>();

    BatchEngine(Session session, int vocab) {
        this.session = session;
        this.batch = new Batch(session.sequences());
        this.runOwners = new Sequence[session.sequences()];
        this.vocab = vocab;
    }

    /**
     * Runs the prompt of {@code s} through the model into its cache (blocks of the session's size) and leaves the
     * logits after it with the sequence. Prefill runs alone, before the sequence joins the batch.
     */
    void prefill(Sequence s) {
        long start = System.nanoTime();
        int[] prompt = s.prompt();
        int block = session.blockSize();
        int promptEnd = s.position + prompt.length; // every block takes the RoPE table of the whole prompt
        for (int done = 0; done < prompt.length; ) {
            int n = Math.min(block, prompt.length - done);
            System.arraycopy(prompt, done, session.tokens, 0, n);
            batch.clear();
            batch.add(s.cache, s.position, n, promptEnd);
            session.forward(batch);
            s.position += n;
            done += n;
        }
        batch.clear();
        takeLogits(s, 0);
        s.prefilled(System.nanoTime() - start);
    }

    /**
     * Puts {@code s}, whose cache was forked from the prefilled {@code parent}'s, at the parent's point: same position,
     * a copy of its logits, so the prompt is computed and held once for all samples.
     */
    void fork(Sequence parent, Sequence s) {
        s.position = parent.position;
        System.arraycopy(parent.logits, 0, logitsOf(s), 0, vocab);
    }

    /** Adds a prefilled (or forked) sequence to the batch. */
    void join(Sequence s) {
        if (active.size() == session.sequences()) {
            throw new IllegalStateException("the batch holds at most " + session.sequences() + " sequences");
        }
        active.add(s);
    }

    /**
     * Decodes until every sequence of the batch has finished.
     *
     * @param modelClosed polled before each step
     * @throws IllegalStateException when the model was closed meanwhile
     */
    void run(BooleanSupplier modelClosed) {
        run(modelClosed, () -> null);
    }

    /**
     * Decodes until every sequence of the batch has finished and {@code waiting} has none left (continuous
     * batching): whenever the batch has room, the next prefilled sequence from {@code waiting} joins it, and samples
     * its first token at the next step.
     *
     * @param waiting the next prefilled sequence, or null when none is waiting
     */
    void run(BooleanSupplier modelClosed, Supplier<Sequence> waiting) {
        fill(waiting);
        while (!active.isEmpty()) {
            if (modelClosed.getAsBoolean()) {
                throw new IllegalStateException("model closed during the generation");
            }
            for (int i = 0; i < active.size(); ) {
                Sequence s = active.get(i);
                s.advance();
                if (s.finished()) {
                    active.remove(i);
                } else {
                    i++;
                }
            }
            fill(waiting); // newcomers queue nothing yet: they sample from their prefill logits at the next step
            step();
        }
    }

    private void fill(Supplier<Sequence> waiting) {
        for (Sequence s; active.size() < session.sequences() && (s = waiting.get()) != null; ) {
            join(s);
        }
    }

    /** One forward pass (more, should the queued tokens exceed the session's rows) over every active sequence. */
    private void step() {
        int rows = session.rows();
        batch.clear();
        for (int i = 0; i < active.size(); i++) {
            Sequence s = active.get(i);
            for (int from = 0; from < s.feedCount; ) {
                if (batch.rows == rows) {
                    forward();
                }
                int n = Math.min(s.feedCount - from, rows - batch.rows);
                System.arraycopy(s.feed, from, session.tokens, batch.rows, n);
                runOwners[batch.runs] = from + n == s.feedCount ? s : null; // only a sequence's last run samples
                batch.add(s.cache, s.position, n);
                s.position += n;
                from += n;
            }
        }
        if (batch.runs > 0) {
            forward();
        }
    }

    private void forward() {
        session.forward(batch);
        for (int r = 0; r < batch.runs; r++) {
            if (runOwners[r] != null) {
                takeLogits(runOwners[r], r);
                runOwners[r] = null;
            }
        }
        batch.clear();
    }

    /** Gives {@code s} the logits of run {@code r}: the session's own row for a batch of one, else a copy. */
    private void takeLogits(Sequence s, int r) {
        if (session.sequences() == 1) {
            s.logits = session.logits;
        } else {
            System.arraycopy(session.logits, r * vocab, logitsOf(s), 0, vocab);
        }
    }

    private float[] logitsOf(Sequence s) {
        if (s.logits == null || s.logits == session.logits) {
            s.logits = new float[vocab];
        }
        return s.logits;
    }
}
