package dev.qwen2j.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Decodes a batch of sequences together, step by step, while sequences come and go (continuous batching). Every
 * step, each decoding sequence samples from its own logits (own sampler, own stop conditions), and the tokens all of
 * them queued run through the model in one forward pass together with up to one block of the prompts waiting to be
 * prefilled, so the weights are read once per step for the whole batch (the linear maps run matrix-matrix over the
 * rows, attention per sequence over its own cache). A prompt's prefill therefore holds the others up by at most one
 * block per step. A sequence that finishes leaves at once, its pages freed; the others go on without waiting for it.
 * A single generation is a batch of one, which is the plain path (prefill blocks, then one row per step).
 *
 * <p>The samples of one prompt are admitted together: the first prefills the prompt, then the others start from
 * its pages (shared, copy on write) and a copy of its logits, so the prompt is computed and held once.
 *
 * <p>The engine works on one {@link Session}'s buffers; sequences bring their own caches. Confined to one thread.
 */
final class BatchEngine {

    /** The samples of one prompt while it is being prefilled into the first one's cache. */
    private static final class Prompt {
        final Sequence[] samples;
        long start;       // when its first block ran
        boolean complete; // the last block ran; the first sample holds the logits after it

        Prompt(Sequence[] samples) {
            this.samples = samples;
        }

        Sequence first() {
            return samples[0];
        }
    }

    private final Session session;
    private final Batch batch;
    private final Sequence[] runOwners; // the sequence that samples from run r's logits, or null
    private final Prompt[] runPrompts;  // the prompt whose last block run r is, or null
    private final int vocab;
    private final Consumer<Sequence> retired;
    private final Consumer<Sequence> prefilled;
    private final boolean noLoneRows;
    private final List<Sequence> decoding = new ArrayList<>();
    private final List<Prompt> prefilling = new ArrayList<>();
    private int admitted;

    /**
     * @param retired told of every sequence that leaves the batch (finished or cancelled), after its pages went
     *                back to their pool
     */
    BatchEngine(Session session, int vocab, Consumer<Sequence> retired) {
        this(session, vocab, retired, s -> { }, false);
    }

    /**
     * @param prefilled  told of the first sample of every prompt whose prefill is complete, before the others share
     *                   its pages
     * @param noLoneRows never prefill a lone prompt token beside a longer prompt's: a run of one row takes the
     *                   one-token attention (and, alone in its step, the one-token linear maps), whose sums are
     *                   ordered otherwise than a block's, so a prompt's keys and logits would depend on where its
     *                   blocks happen to end. With it, a prompt's prefill gives the same bits however it is split
     *                   (the prefix cache relies on that), except for a prompt of one token.
     */
    BatchEngine(Session session, int vocab, Consumer<Sequence> retired, Consumer<Sequence> prefilled,
                boolean noLoneRows) {
        this.prefilled = prefilled;
        this.noLoneRows = noLoneRows;
        this.session = session;
        this.batch = new Batch(session.sequences());
        this.runOwners = new Sequence[session.sequences()];
        this.runPrompts = new Prompt[session.sequences()];
        this.vocab = vocab;
        this.retired = retired;
    }

    BatchEngine(Session session, int vocab) {
        this(session, vocab, s -> { });
    }

    /** Sequences admitted and not yet finished: prefilling, waiting for their prompt, or decoding. */
    int size() {
        return admitted;
    }

    /** Sequences the batch holds at most. */
    int capacity() {
        return session.sequences();
    }

    /**
     * Admits the samples of one prompt (sequences of the same prompt, each with an empty cache; the first one's cache
     * must be able to share its pages with the others'). They join at the next step.
     */
    void admit(Sequence... samples) {
        if (samples.length == 0 || admitted + samples.length > capacity()) {
            throw new IllegalStateException("the batch holds at most " + capacity() + " sequences; " + admitted
                    + " are in it, " + samples.length + " more do not fit");
        }
        prefilling.add(new Prompt(samples));
        admitted += samples.length;
    }

    /**
     * Steps until every admitted sequence has finished.
     *
     * @param modelClosed polled before each step
     * @throws ModelClosedException when the model was closed meanwhile
     */
    void run(BooleanSupplier modelClosed) {
        while (admitted > 0) {
            step(modelClosed);
        }
    }

    /**
     * One step: every decoding sequence samples its next token (one that finishes leaves), then one forward pass
     * (more, should the rows overflow the session's) runs the tokens they queued and up to a block of waiting prompt
     * tokens, first come first served.
     *
     * @param modelClosed polled first
     * @return the sequences this step computed for (decoding ones and prompts being prefilled)
     * @throws ModelClosedException when the model was closed
     */
    int step(BooleanSupplier modelClosed) {
        if (modelClosed.getAsBoolean()) {
            throw new ModelClosedException("model closed during the generation");
        }
        for (int i = 0; i < decoding.size(); ) {
            Sequence s = decoding.get(i);
            s.advance();
            if (s.finished()) {
                decoding.remove(i);
                retire(s);
            } else {
                i++;
            }
        }
        dropCancelledPrompts();
        int stepped = decoding.size() + prefilling.size();
        batch.clear();
        for (int i = 0; i < decoding.size(); i++) {
            Sequence s = decoding.get(i);
            queue(s, s.feed, 0, s.feedCount, -1, true, null);
        }
        int budget = session.blockSize();
        for (int p = 0; p < prefilling.size() && budget > 0; p++) {
            Prompt prompt = prefilling.get(p);
            Sequence first = prompt.first();
            int length = first.promptLength();
            int remaining = length - first.position;
            int n = Math.min(budget, remaining);
            if (noLoneRows && remaining > 1) {
                if (remaining - n == 1) {
                    n--; // leave two tokens for the last block, not one
                }
                if (n < 2) {
                    continue; // wait for a budget of two tokens at least
                }
            }
            if (prompt.start == 0) {
                prompt.start = System.nanoTime();
            }
            // Every block takes the RoPE table of the whole prompt, as one forward call of it would.
            boolean last = first.position + n == length;
            queue(first, first.promptTokens(), first.position, n, length, last, last ? prompt : null);
            budget -= n;
        }
        if (batch.runs > 0) {
            forward();
        }
        startDecoding();
        return stepped;
    }

    /**
     * Queues {@code tokens[from, from + count)} of {@code s} at its next positions, split over forward passes when
     * the rows are full; the run holding the last of them samples when {@code samples} is true.
     *
     * @param ropeLength the length RoPE is computed for, or -1 for the sequence so far
     * @param completes  the prompt whose last block this is, or null
     */
    private void queue(Sequence s, int[] tokens, int from, int count, int ropeLength, boolean samples,
                       Prompt completes) {
        int rows = session.rows();
        int end = from + count;
        while (from < end) {
            if (batch.rows == rows) {
                forward();
            }
            int n = Math.min(end - from, rows - batch.rows);
            System.arraycopy(tokens, from, session.tokens, batch.rows, n);
            boolean lastRun = from + n == end; // only a run's last row has logits worth keeping
            runOwners[batch.runs] = lastRun && samples ? s : null;
            runPrompts[batch.runs] = lastRun ? completes : null;
            batch.add(s.cache, s.position, n, ropeLength < 0 ? s.position + n : ropeLength);
            s.position += n;
            from += n;
        }
    }

    private void forward() {
        session.forward(batch);
        for (int r = 0; r < batch.runs; r++) {
            if (runOwners[r] != null) {
                takeLogits(runOwners[r], r);
                runOwners[r] = null;
            }
            if (runPrompts[r] != null) {
                runPrompts[r].complete = true;
                runPrompts[r] = null;
            }
        }
        batch.clear();
    }

    /** Moves every prompt prefilled by now into decoding: its other samples start from its pages and logits. */
    private void startDecoding() {
        for (int p = 0; p < prefilling.size(); ) {
            Prompt prompt = prefilling.get(p);
            if (!prompt.complete) {
                p++;
                continue;
            }
            prefilling.remove(p);
            Sequence first = prompt.first();
            long nanos = System.nanoTime() - prompt.start;
            prefilled.accept(first);
            for (Sequence s : prompt.samples) {
                if (s != first) {
                    s.cache.share(first.cache);
                    s.position = first.position;
                    System.arraycopy(first.logits, 0, logitsOf(s), 0, vocab);
                }
                s.prefilled(nanos);
                decoding.add(s);
            }
        }
    }

    /** A prompt none of whose samples is wanted any more leaves before the rest of it is computed. */
    private void dropCancelledPrompts() {
        for (int p = 0; p < prefilling.size(); ) {
            Prompt prompt = prefilling.get(p);
            boolean wanted = false;
            for (Sequence s : prompt.samples) {
                wanted |= !s.cancelRequested();
            }
            if (wanted) {
                p++;
                continue;
            }
            prefilling.remove(p);
            for (Sequence s : prompt.samples) {
                s.cancel();
                retire(s);
            }
        }
    }

    private void retire(Sequence s) {
        s.release();
        admitted--;
        retired.accept(s);
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
