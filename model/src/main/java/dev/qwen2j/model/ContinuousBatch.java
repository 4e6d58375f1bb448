package dev.qwen2j.model;

import dev.qwen2j.tensor.KvCacheLayer;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
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
 *         batch.step();               // admit more in between: tryAdmit(...) says whether they fit now
 *     }
 * }
 * }</pre>
 *
 * <p>Each sample gets exactly the tokens it would get generated alone. From {@link Model#newContinuousBatch};
 * confined to one thread (listeners are called on it), which must close it.
 *
 * <p>KV pages come from a pool sized by a {@link KvPoolPlan}; a prompt is admitted only when every page its samples
 * may take is free ({@link #tryAdmit}), so it waits rather than failing halfway. With the prefix cache on
 * ({@link ContinuousBatchOptions#prefixCache()}), the full pages of every prefilled prompt stay registered by their
 * tokens ({@link PrefixCache}) after the prompt's samples leave, evictable least recently used first when the pool
 * needs pages, and a later prompt that starts with the same tokens shares them and prefills only the rest. That
 * reuse is exact: a prompt's prefill is split into blocks of at least two tokens, so each row goes through the same
 * block kernels, which give a row the same bits whatever rows share its pass; the shared pages hold what the prompt's
 * own prefill would have written, and its remaining tokens get the same keys and logits as in a prefill of the whole.
 * Decoding, unlike prefill, takes one-row kernels when a sequence steps alone and block kernels beside others, so
 * what a sample generates may differ in the last bits of a logit with the batch it decodes in, cache or no cache.
 */
public final class ContinuousBatch implements AutoCloseable {

    /** One sample's text as it is decoded, as {@link GenerationListener}, and its outcome. */
    public interface Listener extends GenerationListener {
        /** The sample's outcome, after its last text; called on the stepping thread. */
        void onFinish(GenerationResult result);
    }

    private static final int PAGE = KvCacheLayer.PAGE;

    private final Model model;
    private final Qwen2 qwen2;
    private final KvPagePool pool;
    private final KvPoolPlan plan;
    private final PrefixCache prefixCache; // null when off
    private final Session session;
    private final BatchEngine engine;
    private final int capacity;
    private final BooleanSupplier modelClosed;
    private final Map<Sequence, Listener> listeners = new IdentityHashMap<>();
    private final int[] hitPages;
    private long prefixCacheHitTokens;
    private long prefilledPromptTokens;
    private boolean closed;

    /** Takes over {@code pool}, and the model's registration of a running generation, which {@link #close()} ends. */
    ContinuousBatch(Model model, Qwen2 qwen2, KvPagePool pool, KvPoolPlan plan, boolean prefixCache,
                    BooleanSupplier modelClosed) {
        this.model = model;
        this.qwen2 = qwen2;
        this.pool = pool;
        this.plan = plan;
        this.capacity = plan.contextLength();
        this.modelClosed = modelClosed;
        this.prefixCache = prefixCache ? new PrefixCache(pool.allocator()) : null;
        this.hitPages = new int[KvPagePool.pagesFor(capacity)];
        try {
            this.session = qwen2.newContinuousSession(plan.maxSequences(), capacity);
        } catch (RuntimeException | Error e) {
            pool.close();
            throw e;
        }
        this.engine = new BatchEngine(session, qwen2.config().vocabSize(), this::retired, this::prefilled, true);
    }

    /** Sequences decoded at once at most. */
    public int maxSequences() {
        return engine.capacity();
    }

    /** Sequences admitted and not yet finished. */
    public int size() {
        return engine.size();
    }

    /** The size of its KV page pool and how it was chosen. */
    public KvPoolPlan plan() {
        return plan;
    }

    /** True when {@code samples} more sequences fit now, KV pages aside (see {@link #tryAdmit}). */
    public boolean hasRoom(int samples) {
        return samples >= 1 && engine.size() + samples <= engine.capacity();
    }

    /**
     * Admits {@code prompt} as {@code samples.size()} samples, listener i receiving sample i; they join at the next
     * {@link #step()}.
     *
     * @throws IllegalArgumentException as {@link #tryAdmit}
     * @throws IllegalStateException    when they do not fit now ({@link #tryAdmit} would return false) or the batch
     *                                  is closed
     */
    public void admit(PreparedPrompt prompt, List<? extends Listener> samples) {
        if (!tryAdmit(prompt, samples)) {
            throw new IllegalStateException(samples.size() + " samples do not fit now: " + size() + " of "
                    + maxSequences() + " sequences are running, " + pool.allocator().available() + " of "
                    + plan.pages() + " KV pages are not held and " + pool.allocator().reserved() + " are reserved");
        }
    }

    /**
     * Admits {@code prompt} as {@code samples.size()} samples, listener i receiving sample i, when they fit now: a
     * seat for each, and every KV page they may take at most ({@link KvPoolPlan#pagesFor}) free or evictable beyond
     * those promised to the sequences running, so that none of them runs out of pages halfway. With the prefix cache
     * on, the prompt starts after the longest run of its full pages that an earlier prompt left (leaving at least two
     * tokens to prefill): those pages are shared, not computed again, and hold the very bits its own prefill would
     * have written.
     *
     * @return false, admitting nothing, when they do not fit now (they will once enough sequences have left)
     * @throws IllegalArgumentException when the prompt was prepared by another model, there are no listeners or more
     *                                  than {@link #maxSequences()}, or its pages can never fit in the pool
     * @throws IllegalStateException    when the batch is closed
     */
    public boolean tryAdmit(PreparedPrompt prompt, List<? extends Listener> samples) {
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
        if (prompt.capacity() > capacity) { // prepared with the model's own context: cannot happen, but cheap to say
            throw new IllegalArgumentException("prompt: " + prompt.capacity() + " positions exceed " + capacity);
        }
        for (Listener listener : samples) {
            Objects.requireNonNull(listener, "samples: a null listener");
        }
        int worst = KvPoolPlan.pagesFor(prompt.promptTokens(), prompt.maxTokens(), samples.size());
        if (worst > plan.pages()) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "%d prompt tokens + %d max tokens x %d sample(s) need up to %d KV pages of %d positions, more than"
                            + " the whole KV pool of %d pages (%s)", prompt.promptTokens(), prompt.maxTokens(),
                    samples.size(), worst, PAGE, plan.pages(),
                    KvPoolPlan.size(plan.bytes())));
        }
        if (!hasRoom(samples.size())) {
            return false;
        }
        PageAllocator allocator = pool.allocator();
        int hits = cacheable(prompt.promptTokens()) ? prefixCache.match(prompt.tokens,
                Math.max(0, (prompt.promptTokens() - 2) / PAGE), hitPages) : 0;
        int revived = 0; // registered pages no one holds: taking them up takes them from the available ones
        for (int i = 0; i < hits; i++) {
            revived += allocator.unheld(hitPages[i]) ? 1 : 0;
        }
        int needed = worst - hits;
        if ((long) allocator.available() - revived - allocator.reserved() < needed) {
            return false;
        }
        long seed = prompt.options.seed();
        Sequence[] sequences = new Sequence[samples.size()];
        PageReservation reservation = new PageReservation(allocator, needed, sequences.length);
        for (int i = 0; i < sequences.length; i++) {
            Listener listener = samples.get(i);
            KvCache cache = pool.newCache(prompt.capacity());
            if (i == 0 && hits > 0) {
                cache.share(hitPages, hits);
            }
            cache.drawFrom(reservation);
            sequences[i] = model.sequence(prompt, cache, seed + i, listener);
            sequences[i].cachedTokens = hits * PAGE;
            listeners.put(sequences[i], listener);
        }
        // Taking up the cached pages made them held; the rest of the promise comes out of what is left.
        if (!allocator.reserve(needed)) {
            throw new IllegalStateException("KV pages counted available were not: " + allocator);
        }
        sequences[0].position = hits * PAGE;
        prefixCacheHitTokens += sequences[0].position;
        prefilledPromptTokens += prompt.promptTokens() - sequences[0].position;
        engine.admit(sequences);
        return true;
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

    /** KV pages its sequences hold now. */
    public int kvPagesHeld() {
        return pool.allocator().inUse();
    }

    /** KV pages the prefix cache keeps that no sequence holds: the pool reclaims them, oldest first, when it needs to. */
    public int kvPagesCached() {
        return pool.allocator().evictable();
    }

    /** Prompt tokens admitted prompts took from the prefix cache instead of prefilling them, since creation. */
    public long prefixCacheHitTokens() {
        return prefixCacheHitTokens;
    }

    /** Prompt tokens admitted prompts prefill (or did), since creation: every prompt token not from the cache. */
    public long prefilledPromptTokens() {
        return prefilledPromptTokens;
    }

    /** True when the prompt's pages may be shared with another prompt: its keys do not depend on its length. */
    private boolean cacheable(int promptTokens) {
        return prefixCache != null && qwen2.keysIndependentOfLength(promptTokens);
    }

    /** A prompt's prefill is complete: its full pages go into the prefix cache. */
    private void prefilled(Sequence first) {
        if (cacheable(first.promptLength())) {
            prefixCache.register(first.promptTokens(), first.promptLength() / PAGE,
                    first.cache.table());
        }
    }

    String allocatorState() {
        return pool.allocator().toString();
    }

    /** Pages the prefix cache holds registered now (held or evictable). */
    int prefixCachePages() {
        return prefixCache == null ? 0 : prefixCache.registeredPages();
    }

    /** Registered pages no sequence holds, which the pool reclaims when it needs them. */
    int evictablePages() {
        return pool.allocator().evictable();
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
