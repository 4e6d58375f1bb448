package dev.qwen2j.model;

/**
 * The pages the samples of one admitted prompt may still take from their pool, reserved when the prompt was admitted
 * (its worst case: every sample decoding to its last position), so that none of them runs out of pages halfway. The
 * samples draw on it together, since which of them copies the prompt's shared partial page depends on the order they
 * write in; what is left goes back to the pool when the last of them releases its pages.
 */
final class PageReservation {

    private final PageAllocator allocator;
    private int pages;
    private int holders;

    /** Takes the reservation of {@code pages} that {@code allocator} made already, for {@code holders} caches. */
    PageReservation(PageAllocator allocator, int pages, int holders) {
        this.allocator = allocator;
        this.pages = pages;
        this.holders = holders;
    }

    /** A page for one of the samples: a reserved one while any is left (the estimate is a bound, so always). */
    int allocate() {
        if (pages > 0) {
            pages--;
            return allocator.allocateReserved();
        }
        return allocator.allocate();
    }

    /** One sample has released its pages; the last one gives back what was reserved and not taken. */
    void release() {
        if (holders <= 0) {
            throw new IllegalStateException("a page reservation released more often than it was held");
        }
        if (--holders == 0) {
            allocator.unreserve(pages);
            pages = 0;
        }
    }

    /** Pages reserved and not taken yet. */
    int pages() {
        return pages;
    }
}
