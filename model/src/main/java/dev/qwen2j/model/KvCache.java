package dev.qwen2j.model;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.KvCacheLayer;
import dev.qwen2j.tensor.PageTable;

import java.lang.foreign.Arena;

/**
 * Keys and values of one sequence: one {@link KvCacheLayer} per decoder layer, all seen through one page table.
 * Either the cache owns its pages (a pool for {@code capacity} positions that the table maps in order, allocated
 * once: a pooled session's cache), or it takes pages from a {@link KvPagePool} as the sequence grows
 * ({@link #reserve}) and may share them with the sequence it was forked from, copying a shared page before it
 * writes to it. Off-heap from a shared arena, because the backend's worker threads read and write it.
 */
final class KvCache implements AutoCloseable {

    private final Arena arena;     // null when the pages come from a pool
    private final KvPagePool pool; // null when the cache owns its pages
    private final PageTable table;
    private final KvCacheLayer[] layers;
    private final int capacity;
    private PageReservation reservation; // where new pages come from in a continuous batch, or null

    /** A cache that owns pages for {@code capacity} positions. */
    KvCache(LayerSplit split, int layerCount, int kvHeads, int capacity, int headDim, DType dtype) {
        this.arena = Arena.ofShared();
        this.pool = null;
        this.capacity = capacity;
        this.layers = new KvCacheLayer[layerCount];
        int pages = KvCacheLayer.pagesFor(capacity);
        this.table = PageTable.identity(pages);
        try {
            for (int i = 0; i < layerCount; i++) {
                layers[i] = split.of(i).kvPool(arena, dtype, kvHeads, headDim, pages, table);
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
    }

    /** A cache of at most {@code capacity} positions whose pages, mapped by {@code table}, come from {@code pool}. */
    KvCache(KvPagePool pool, PageTable table, int capacity) {
        this.arena = null;
        this.pool = pool;
        this.table = table;
        this.capacity = capacity;
        this.layers = new KvCacheLayer[pool.layerCount()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = pool.layer(i, table);
        }
    }

    /** Bytes of keys and values (and I8 scales) for all layers at {@code capacity} positions, in whole pages. */
    static long bytes(int layerCount, int kvHeads, int capacity, int headDim, DType dtype) {
        return layerCount * KvCacheLayer.bytes(dtype, kvHeads, capacity, headDim);
    }

    KvCacheLayer layer(int index) {
        return layers[index];
    }

    /** Positions this sequence may hold at most. */
    int capacity() {
        return capacity;
    }

    /**
     * Makes positions {@code [position, position + count)} writable: maps pages up to them (taking them from the pool
     * as the sequence grows) and gives this sequence its own copy of any shared page among them. A cache that owns
     * its pages has them all already.
     */
    void reserve(int position, int count) {
        if (position < 0 || count < 0 || (long) position + count > capacity) {
            throw new IllegalStateException("KV cache full: " + position + " + " + count + " tokens > "
                    + capacity + " positions");
        }
        if (pool == null || count == 0) {
            return;
        }
        PageAllocator allocator = pool.allocator();
        int first = position / KvCacheLayer.PAGE;
        int last = (position + count - 1) / KvCacheLayer.PAGE;
        for (int i = first; i <= last && i < table.count(); i++) {
            int page = table.page(i);
            if (allocator.shared(page)) { // copy on write: the others keep reading the original
                int copy = newPage();
                pool.copyPage(page, copy);
                allocator.release(page);
                table.set(i, copy);
            }
        }
        while (table.count() <= last) {
            table.append(newPage());
        }
    }

    private int newPage() {
        return reservation != null ? reservation.allocate() : pool.allocator().allocate();
    }

    /** Takes this cache's new pages from {@code reservation} from now on, and releases it with its pages. */
    void drawFrom(PageReservation reservation) {
        this.reservation = reservation;
    }

    /** The pages this cache maps, in position order (for the prefix cache). */
    PageTable table() {
        return table;
    }

    /** Maps the first {@code count} of {@code pages} (the prefix cache's, for a prompt's first tokens) into this empty cache, shared. */
    void share(int[] pages, int count) {
        if (pool == null || table.count() != 0) {
            throw new IllegalStateException("only an empty cache whose pages come from a pool can take cached pages");
        }
        for (int i = 0; i < count; i++) {
            pool.allocator().retain(pages[i]);
            table.append(pages[i]);
        }
    }

    /**
     * A cache for another sequence that starts where this one is: it shares every page mapped now (the prompt's
     * keys and values are held once), with room for {@code capacity} positions.
     */
    KvCache fork(int capacity) {
        if (pool == null) {
            throw new IllegalStateException("only a cache whose pages come from a pool can be forked");
        }
        KvCache child = pool.newCache(capacity);
        child.share(this);
        return child;
    }

    /**
     * Maps every page {@code parent} holds now into this empty cache, shared: this sequence starts where the parent
     * is, and the pages are held once until one of them writes to a shared page (copy on write).
     */
    void share(KvCache parent) {
        if (pool == null || parent.pool != pool) {
            throw new IllegalStateException("only caches of one page pool can share pages");
        }
        if (table.count() != 0) {
            throw new IllegalStateException("a cache that already holds pages cannot take another's");
        }
        for (int i = 0; i < parent.table.count(); i++) {
            pool.allocator().retain(parent.table.page(i));
            table.append(parent.table.page(i));
        }
    }

    /**
     * Gives pages taken from a pool back to it (nothing for a cache that owns its pages), the last first: registered
     * prompt pages then wait as evictable in that order, so a prefix's later pages are reclaimed before its earlier
     * ones, which more prompts share.
     */
    void releasePooledPages() {
        if (pool != null) {
            for (int i = table.count() - 1; i >= 0; i--) {
                pool.allocator().release(table.page(i));
            }
            table.truncate(0);
            if (reservation != null) {
                reservation.release();
                reservation = null;
            }
        }
    }

    /** Frees the cache's own pages, or gives its pool pages back. */
    @Override
    public void close() {
        if (pool == null) {
            arena.close();
        } else {
            releasePooledPages();
        }
    }
}
