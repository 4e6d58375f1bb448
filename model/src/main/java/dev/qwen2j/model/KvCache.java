package dev.qwen2j.model;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.KvCacheLayer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Keys and values of one session: one {@link KvCacheLayer} per decoder layer, each {@code [kvHead][position]
 * [headDim]}, allocated once for {@code capacity} positions. Off-heap from a shared arena, because the backend's
 * worker threads read and write it; freed by {@link #close()}.
 */
final class KvCache implements AutoCloseable {

    private final Arena arena;
    private final KvCacheLayer[] layers;
    private final int capacity;
    private final long bytes;

    KvCache(int layerCount, int kvHeads, int capacity, int headDim, DType dtype) {
        this.arena = Arena.ofShared();
        this.capacity = capacity;
        this.layers = new KvCacheLayer[layerCount];
        this.bytes = bytes(layerCount, kvHeads, capacity, headDim, dtype);
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

    /** Bytes of keys and values this cache holds. */
    long bytes() {
        return bytes;
    }

    /**
     * Copies the keys and values of positions {@code [0, positions)} of every layer from {@code source}: a sample
     * forked from a prefilled prompt starts from the prompt's cache without running the prompt again.
     */
    void copyPrefix(KvCache source, int positions) {
        if (source.layers.length != layers.length || positions > capacity || positions > source.capacity) {
            throw new IllegalArgumentException("cannot copy " + positions + " positions from a cache of "
                    + source.layers.length + " layers × " + source.capacity + " positions into one of "
                    + layers.length + " × " + capacity);
        }
        for (int l = 0; l < layers.length; l++) {
            KvCacheLayer from = source.layers[l];
            KvCacheLayer to = layers[l];
            long length = KvCacheLayer.bytes(to.dtype(), 1, positions, to.headDim());
            for (int h = 0; h < to.kvHeads(); h++) {
                MemorySegment.copy(from.keys(), from.offset(h, 0), to.keys(), to.offset(h, 0), length);
                MemorySegment.copy(from.values(), from.offset(h, 0), to.values(), to.offset(h, 0), length);
            }
        }
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
