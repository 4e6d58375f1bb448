package dev.qwen2j.model;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.KvCacheLayer;
import dev.qwen2j.tensor.PageTable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The KV pages of one batch: per decoder layer one pool of {@link KvCacheLayer#PAGE}-position pages, handed out by
 * a {@link PageAllocator} as sequences grow. Sequences forked from one prompt share its pages; the first write to a
 * shared page (only the prompt's last, partial page is ever written again) copies it first. Off-heap from a shared
 * arena, freed by {@link #close()} once every sequence has released its pages.
 */
final class KvPagePool implements AutoCloseable {

    private final Arena arena;
    private final KvCacheLayer[] layers; // the pools, seen through an empty table
    private final PageAllocator allocator;
    private final long pageBytes;        // keys + values (+ scales) of one page, all layers

    KvPagePool(int layerCount, int kvHeads, int headDim, DType dtype, int pages) {
        this.allocator = new PageAllocator(pages);
        this.arena = Arena.ofShared();
        this.layers = new KvCacheLayer[layerCount];
        this.pageBytes = 2L * layerCount * KvCacheLayer.pageBytes(dtype, kvHeads, headDim);
        try {
            for (int l = 0; l < layerCount; l++) {
                layers[l] = KvCacheLayer.ofPool(arena, dtype, kvHeads, headDim, pages, new PageTable(1));
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
        for (KvCacheLayer pool : layers) {
            int bytes = pool.dtype().byteSize();
            long block = (long) pool.kvHeads() * pool.headDim() * KvCacheLayer.PAGE * bytes;
            MemorySegment.copy(pool.keys(), pool.keyIndex(from, 0, 0) * bytes, pool.keys(),
                    pool.keyIndex(to, 0, 0) * bytes, block);
            MemorySegment.copy(pool.values(), pool.valueIndex(from, 0, 0) * bytes, pool.values(),
                    pool.valueIndex(to, 0, 0) * bytes, block);
            if (pool.keyScales() != null) {
                long scales = (long) pool.kvHeads() * KvCacheLayer.PAGE * Float.BYTES;
                MemorySegment.copy(pool.keyScales(), pool.scaleIndex(from, 0, 0) * Float.BYTES, pool.keyScales(),
                        pool.scaleIndex(to, 0, 0) * Float.BYTES, scales);
                MemorySegment.copy(pool.valueScales(), pool.scaleIndex(from, 0, 0) * Float.BYTES, pool.valueScales(),
                        pool.scaleIndex(to, 0, 0) * Float.BYTES, scales);
            }
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
