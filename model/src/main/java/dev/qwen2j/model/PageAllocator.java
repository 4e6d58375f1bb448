package dev.qwen2j.model;

/**
 * Hands out the pages of a KV page pool by index, with a reference count per page so that sequences may share the
 * pages of a common prefix: a page goes back to the free list when its last holder releases it.
 *
 * <p>A page the {@link PrefixCache} has registered (a full page of some prompt's keys and values) does not go back to
 * the free list when its last holder releases it: it waits in a least-recently-released list, evictable, so that a
 * later prompt with the same prefix may take it up again ({@link #retain}). When the free list is empty,
 * {@link #allocate()} reclaims the page released longest ago, telling the {@link Evictor} first.
 *
 * <p>A continuous batch admits a sequence only once it has {@link #reserve reserved} every page the sequence may
 * still take, so that no sequence runs out of pages halfway: {@link #available()} counts free and evictable pages,
 * of which {@link #reserved()} are promised. Sized once; allocates nothing afterwards. Not thread-safe: the engine
 * that owns the pool calls it from one thread.
 */
final class PageAllocator {

    /** Told of a registered page before {@link #allocate()} hands it out for other keys and values. */
    interface Evictor {
        void evicted(int page);
    }

    private static final int NONE = -1;

    private final int[] refs;
    private final int[] free;
    private int freeCount;
    private int peakInUse;
    // Registered pages; those no sequence holds form a doubly linked list, least recently released first.
    private final boolean[] cached;
    private final int[] previous;
    private final int[] next;
    private int oldest = NONE;
    private int newest = NONE;
    private int evictableCount;
    private int reserved;
    private Evictor evictor = page -> { };

    PageAllocator(int pages) {
        if (pages < 1) {
            throw new IllegalArgumentException("a page pool needs at least one page, got " + pages);
        }
        refs = new int[pages];
        free = new int[pages];
        cached = new boolean[pages];
        previous = new int[pages];
        next = new int[pages];
        for (int i = 0; i < pages; i++) {
            free[i] = pages - 1 - i; // lowest index handed out first
        }
        freeCount = pages;
    }

    void evictor(Evictor evictor) {
        this.evictor = evictor;
    }

    /**
     * A page, now held once: a free one, else the evictable one released longest ago. Pages reserved for admitted
     * sequences are not taken: see {@link #allocateReserved()}.
     */
    int allocate() {
        if (available() - reserved <= 0) {
            throw new IllegalStateException("KV page pool exhausted: all " + refs.length + " pages in use"
                    + (reserved > 0 ? " or reserved (" + reserved + ")" : ""));
        }
        return take();
    }

    /** {@link #allocate()} for a sequence that reserved it: one reserved page fewer. */
    int allocateReserved() {
        if (reserved <= 0) {
            throw new IllegalStateException("no KV page is reserved");
        }
        reserved--;
        return take();
    }

    private int take() {
        int page;
        if (freeCount > 0) {
            page = free[--freeCount];
        } else {
            page = oldest;
            unlink(page);
            cached[page] = false;
            evictor.evicted(page);
        }
        refs[page] = 1;
        peakInUse = Math.max(peakInUse, inUse());
        return page;
    }

    /** One more holder of {@code page}: a sequence that shares it, or takes up a registered page no one holds. */
    void retain(int page) {
        if (refs[page] == 0) {
            if (!cached[page]) {
                throw new IllegalStateException("page " + page + " is free; it cannot be shared");
            }
            unlink(page); // evictable no more
            refs[page] = 1;
            peakInUse = Math.max(peakInUse, inUse());
            return;
        }
        refs[page]++;
    }

    /** One holder fewer; when none is left the page is free again, or evictable when it is registered. */
    void release(int page) {
        if (refs[page] <= 0) {
            throw new IllegalStateException("page " + page + " released more often than it was held");
        }
        if (--refs[page] == 0) {
            if (cached[page]) {
                append(page);
            } else {
                free[freeCount++] = page;
            }
        }
    }

    /** Registers {@code page}, held now: once released by all it stays evictable instead of free. */
    void markCached(int page) {
        if (refs[page] <= 0) {
            throw new IllegalStateException("page " + page + " is not held; only a held page can be registered");
        }
        cached[page] = true;
    }

    /** Unregisters {@code page}: free at once when no one holds it, else when its last holder releases it. */
    void uncache(int page) {
        if (!cached[page]) {
            return;
        }
        cached[page] = false;
        if (refs[page] == 0) {
            unlink(page);
            free[freeCount++] = page;
        }
    }

    boolean cached(int page) {
        return cached[page];
    }

    /** True when no sequence holds {@code page} (free, or registered and evictable). */
    boolean unheld(int page) {
        return refs[page] == 0;
    }

    /**
     * Promises {@code pages} of the available ones to a sequence about to be admitted.
     *
     * @return false, promising nothing, when fewer than that are available beyond those already promised
     */
    boolean reserve(int pages) {
        if (pages < 0 || (long) reserved + pages > available()) {
            return false;
        }
        reserved += pages;
        return true;
    }

    /** Gives back {@code pages} reserved and not taken. */
    void unreserve(int pages) {
        if (pages < 0 || pages > reserved) {
            throw new IllegalStateException("unreserving " + pages + " of " + reserved + " reserved pages");
        }
        reserved -= pages;
    }

    /** True when more than one sequence holds {@code page}: writing to it needs a private copy first. */
    boolean shared(int page) {
        return refs[page] > 1;
    }

    int pages() {
        return refs.length;
    }

    /** Pages some sequence holds. */
    int inUse() {
        return refs.length - freeCount - evictableCount;
    }

    /** Pages no sequence holds: free, or registered and evictable. */
    int available() {
        return freeCount + evictableCount;
    }

    /** Registered pages no sequence holds, which {@link #allocate()} reclaims once the free ones are gone. */
    int evictable() {
        return evictableCount;
    }

    /** Pages promised to admitted sequences and not taken yet. */
    int reserved() {
        return reserved;
    }

    /** The most pages in use at once since creation. */
    int peakInUse() {
        return peakInUse;
    }

    private void append(int page) {
        previous[page] = newest;
        next[page] = NONE;
        if (newest == NONE) {
            oldest = page;
        } else {
            next[newest] = page;
        }
        newest = page;
        evictableCount++;
    }

    private void unlink(int page) {
        int before = previous[page];
        int after = next[page];
        if (before == NONE) {
            oldest = after;
        } else {
            next[before] = after;
        }
        if (after == NONE) {
            newest = before;
        } else {
            previous[after] = before;
        }
        evictableCount--;
    }

    @Override
    public String toString() {
        return "PageAllocator[" + inUse() + "/" + refs.length + " pages in use, " + evictableCount + " evictable, "
                + reserved + " reserved]";
    }
}
