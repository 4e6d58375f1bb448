package dev.qwen2j.model;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.KvCacheLayer;
import dev.qwen2j.tensor.PageTable;

import java.lang.foreign.Arena;

/**
 * The KV pages of one batch: per decoder layer one pool of {@link KvCacheLayer#PAGE}-position pages, handed out by
 * a {@link PageAllocator} as sequences grow. Sequences forked from one prompt share its pages; the first write to a
 * shared page (only the prompt's last, partial page is ever written again) copies it first. Off-heap from a shared
 * arena, freed by {@link #close()} once every sequence has released its pages.
 */
final class KvPagePool implements AutoCloseable {

    private final LayerSplit split;
    private final Arena arena;
    private final KvCacheLayer[] layers; // the pools, seen through an empty table
    private final PageAllocator allocator;
    private final long pageBytes;        // keys + values (+ scales) of one page, all layers

    KvPagePool(LayerSplit split, int layerCount, int kvHeads, int headDim, DType dtype, int pages) {
        this.split = split;
        this.allocator = new PageAllocator(pages);
        this.arena = Arena.ofShared();
        this.layers = new KvCacheLayer[layerCount];
        this.pageBytes = 2L * layerCount * KvCacheLayer.pageBytes(dtype, kvHeads, headDim);
        try {
            for (int l = 0; l < layerCount; l++) {
                layers[l] = split.of(l).kvPool(arena, dtype, kvHeads, headDim, pages, new PageTable(1));
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
    }

    /** Pages that hold {@code positions} positions. */
    static int pagesFor(int positions) {
        return KvCacheLayer.pagesFor(positions);
    }

    /** An empty cache for a sequence of at most {@code capacity} positions, taking pages from this pool as it grows. */
    KvCache newCache(int capacity) {
        return new KvCache(this, new PageTable(pagesFor(capacity)), capacity);
    }

    /** The pool of layer {@code l}, seen through {@code table}. */
    KvCacheLayer layer(int l, PageTable table) {
        return layers[l].withPages(table);
    }

    int layerCount() {
        return layers.length;
    }

    PageAllocator allocator() {
        return allocator;
    }

    /** Copies page {@code from} to page {@code to} in every layer: keys, values and I8 scales. */
    void copyPage(int from, int to) {
        for (int l = 0; l < layers.length; l++) {
            split.of(l).copyKvPage(layers[l], from, to);
        }
    }

    /** Bytes of the whole pool, allocated up front: what its sequences may hold together at most. */
    long bytes() {
        return pageBytes * allocator.pages();
    }

    /** Bytes of the most pages the sequences held at once. */
    long peakBytes() {
        return pageBytes * allocator.peakInUse();
    }

    @Override
    public void close() {
        arena.close();
    }
}
