package dev.qwen2j.model;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.KvCacheLayer;
import dev.qwen2j.tensor.PageTable;

import java.lang.foreign.Arena;

/**
 * Keys and values of one session: one {@link KvCacheLayer} per decoder layer, each a pool of pages for
 * {@code capacity} positions that one page table (the same for every layer) maps in order, allocated once. Off-heap from a shared arena, because the backend's
 * worker threads read and write it; freed by {@link #close()}.
 */
final class KvCache implements AutoCloseable {

    private final Arena arena;
    private final KvCacheLayer[] layers;
    private final int capacity;

    KvCache(int layerCount, int kvHeads, int capacity, int headDim, DType dtype) {
        this.arena = Arena.ofShared();
        this.capacity = capacity;
        this.layers = new KvCacheLayer[layerCount];
        try {
            int pages = KvCacheLayer.pagesFor(capacity);
            PageTable table = PageTable.identity(pages);
            for (int i = 0; i < layerCount; i++) {
                layers[i] = KvCacheLayer.ofPool(arena, dtype, kvHeads, headDim, pages, table);
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
    }

    /** Bytes of keys and values (and I8 scales) for all layers at {@code capacity} positions, in whole pages. */
    static long bytes(int layerCount, int kvHeads, int capacity, int headDim, DType dtype) {
        return layerCount * KvCacheLayer.bytes(dtype, kvHeads, capacity, headDim);
    }

    KvCacheLayer layer(int index) {
        return layers[index];
    }

    /** Positions each layer holds. */
    int capacity() {
        return capacity;
    }

    @Override
    public void close() {
        arena.close();
    }
}
