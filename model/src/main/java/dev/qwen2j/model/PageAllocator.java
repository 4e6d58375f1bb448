package dev.qwen2j.model;

/**
 * Hands out the pages of a KV page pool by index, with a reference count per page so that sequences may share the
 * pages of a common prefix: a page goes back to the free list when its last holder releases it. Sized once; allocates
 * nothing afterwards. Not thread-safe: the engine that owns the pool calls it from one thread.
 */
final class PageAllocator {

    private final int[] refs;
    private final int[] free;
    private int freeCount;
    private int peakInUse;

    PageAllocator(int pages) {
        if (pages < 1) {
            throw new IllegalArgumentException("a page pool needs at least one page, got " + pages);
        }
        refs = new int[pages];
        free = new int[pages];
        for (int i = 0; i < pages; i++) {
            free[i] = pages - 1 - i; // lowest index handed out first
        }
        freeCount = pages;
    }

    /** A free page, now held once. */
    int allocate() {
        if (freeCount == 0) {
            throw new IllegalStateException("KV page pool exhausted: all " + refs.length + " pages in use");
        }
        int page = free[--freeCount];
        refs[page] = 1;
        peakInUse = Math.max(peakInUse, inUse());
        return page;
    }

    /** One more holder of {@code page} (a sequence that shares it). */
    void retain(int page) {
        if (refs[page] <= 0) {
            throw new IllegalStateException("page " + page + " is free; it cannot be shared");
        }
        refs[page]++;
    }

    /** One holder fewer; the page is free again when none is left. */
    void release(int page) {
        if (refs[page] <= 0) {
            throw new IllegalStateException("page " + page + " released more often than it was held");
        }
        if (--refs[page] == 0) {
            free[freeCount++] = page;
        }
    }

    /** True when more than one sequence holds {@code page}: writing to it needs a private copy first. */
    boolean shared(int page) {
        return refs[page] > 1;
    }

    int pages() {
        return refs.length;
    }

    int inUse() {
        return refs.length - freeCount;
    }

    /** The most pages in use at once since creation. */
    int peakInUse() {
        return peakInUse;
    }

    @Override
    public String toString() {
        return "PageAllocator[" + inUse() + "/" + refs.length + " pages in use]";
    }
}
