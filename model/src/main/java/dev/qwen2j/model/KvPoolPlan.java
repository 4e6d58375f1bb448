package dev.qwen2j.model;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.KvCacheLayer;

import java.util.Locale;

/**
 * How many KV pages a {@link ContinuousBatch} allocates, and why. A batch of {@code maxSequences} sequences would need
 * {@code maxSequences} full contexts at most, but most requests use a small part of the context: the pool is sized to
 * memory instead, and a request is admitted only once the pages it may take at most are free ({@link
 * #pagesFor}), so it waits in line rather than failing halfway. By default the pool takes {@value #DEFAULT_FRACTION}
 * of the memory this machine has beside the Java heap's maximum and the weights (never more than the full contexts);
 * {@link ContinuousBatchOptions#kvMemoryBytes()} sets its size instead.
 *
 * @param pages          pages of {@link KvCacheLayer#PAGE} positions in the pool
 * @param pageBytes      keys and values of one page, all layers
 * @param contextLength  positions one sequence holds at most
 * @param maxSequences   sequences decoded at once at most
 * @param basis          how the size was chosen, for the log
 */
public record KvPoolPlan(int pages, long pageBytes, int contextLength, int maxSequences, String basis) {

    /** The part of the memory beside the heap and the weights that the pool takes by default. */
    public static final double DEFAULT_FRACTION = 0.5;

    /** A pool smaller than this holds no useful request. */
    public static final int MIN_PAGES = 2;

    /**
     * What the planner knows of this machine.
     *
     * @param physicalBytes memory of the machine (or the container's limit)
     * @param heapBytes     the Java heap's maximum, which the off-heap pool must leave free
     * @param weightBytes   the weights, mapped: they must stay in memory for speed
     */
    public record Memory(long physicalBytes, long heapBytes, long weightBytes) {
    }

    public KvPoolPlan {
        if (pages < MIN_PAGES) {
            throw new IllegalArgumentException("a KV pool needs at least " + MIN_PAGES + " pages, got " + pages);
        }
    }

    /**
     * The plan for sequences of {@code contextLength} positions, {@code maxSequences} at once, with pages of
     * {@code pageBytes}.
     *
     * @param kvMemoryBytes the pool's size, or 0 for the default share of {@code memory}
     * @throws IllegalArgumentException when the pool would hold fewer than {@link #MIN_PAGES} pages, or more bytes than
     *                                  the machine has
     */
    public static KvPoolPlan of(long pageBytes, int contextLength, int maxSequences, long kvMemoryBytes, Memory memory) {
        if (pageBytes < 1 || contextLength < 1 || maxSequences < 1 || kvMemoryBytes < 0) {
            throw new IllegalArgumentException("pageBytes, contextLength and maxSequences must be >= 1 and "
                    + "kvMemoryBytes >= 0, got " + pageBytes + ", " + contextLength + ", " + maxSequences + ", "
                    + kvMemoryBytes);
        }
        long fullContexts = (long) maxSequences * KvCacheLayer.pagesFor(contextLength);
        if (kvMemoryBytes > 0) {
            if (kvMemoryBytes > memory.physicalBytes()) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "a KV pool of %s is more than this machine's %s of memory", size(kvMemoryBytes),
                        size(memory.physicalBytes())));
            }
            long pages = Math.min(kvMemoryBytes / pageBytes, Integer.MAX_VALUE);
            if (pages < MIN_PAGES) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "a KV pool of %s holds %d pages of "
                        + "%s: give at least %s", size(kvMemoryBytes), pages, size(pageBytes),
                        size(MIN_PAGES * pageBytes)));
            }
            return new KvPoolPlan((int) pages, pageBytes, contextLength, maxSequences, "set to " + size(kvMemoryBytes));
        }
        long room = Math.max(0, memory.physicalBytes() - memory.heapBytes() - memory.weightBytes());
        long share = (long) (room * DEFAULT_FRACTION);
        long pages = Math.min(fullContexts, Math.min(share / pageBytes, Integer.MAX_VALUE));
        String basis = pages == fullContexts
                ? "every sequence's full context, within half of the " + size(room) + " beside heap and weights"
                : String.format(Locale.ROOT, "%.0f%% of the %s of memory beside the %s heap and %s of weights",
                DEFAULT_FRACTION * 100, size(room), size(memory.heapBytes()), size(memory.weightBytes()));
        if (pages < MIN_PAGES) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "no room for a KV pool: %s holds %d pages "
                    + "of %s (%s); set its size explicitly", size(share), pages, size(pageBytes), basis));
        }
        return new KvPoolPlan((int) pages, pageBytes, contextLength, maxSequences, basis);
    }

    /** Bytes of keys and values (with I8 scales) of one page of every layer of a model of this shape. */
    public static long pageBytes(int layers, int kvHeads, int headDim, DType kvCacheType) {
        return 2L * layers * KvCacheLayer.pageBytes(kvCacheType, kvHeads, headDim);
    }

    /** Bytes the pool allocates. */
    public long bytes() {
        return pages * pageBytes;
    }

    /** Positions the pool holds, all sequences together. */
    public long positions() {
        return (long) pages * KvCacheLayer.PAGE;
    }

    /** Pages of one sequence at full context. */
    public int pagesPerSequence() {
        return KvCacheLayer.pagesFor(contextLength);
    }

    /** Sequences at full context that fit at once (at most {@link #maxSequences()}). */
    public int fullContextSequences() {
        return Math.min(maxSequences, pages / pagesPerSequence());
    }

    /**
     * The most pages a prompt of {@code promptTokens} admitted as {@code samples} samples of up to {@code maxTokens}
     * tokens each may take: the prompt's full pages once, then each sample's own (its copy of the prompt's last
     * partial page and what it adds). A request beyond {@link #pages()} can never run.
     */
    public static int pagesFor(int promptTokens, int maxTokens, int samples) {
        int alone = KvCacheLayer.pagesFor(promptTokens + maxTokens);
        int shared = promptTokens / KvCacheLayer.PAGE;
        return Math.toIntExact(shared + (long) samples * (alone - shared));
    }

    /** One line for the log. */
    public String describe() {
        return String.format(Locale.ROOT, "KV pool: %d pages of %d positions, %s (%s); %d of %d sequences fit at "
                        + "their full context of %d positions at once, more when they are shorter", pages,
                KvCacheLayer.PAGE, size(bytes()), basis, fullContextSequences(), maxSequences, contextLength);
    }

    static String size(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        if (bytes >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        }
        return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }
}
