package dev.qwen2j.model;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.KvCacheLayer;

import java.lang.foreign.Arena;

/**
 * Keys and values of one session: one {@link KvCacheLayer} per decoder layer, each {@code [kvHead][position]
 * [headDim]}, allocated once for {@code capacity} positions. Off-heap from a shared arena, because the backend's
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
            for (int i = 0; i < layerCount; i++) {
                layers[i] = KvCacheLayer.allocate(arena, dtype, kvHeads, capacity, headDim);
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
    }

    /** Bytes of keys and values for all layers at {@code capacity} positions. */
    static long bytes(int layerCount, int kvHeads, int capacity, int headDim, DType dtype) {
        return 2L * layerCount * KvCacheLayer.bytes(dtype, kvHeads, capacity, headDim);
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
