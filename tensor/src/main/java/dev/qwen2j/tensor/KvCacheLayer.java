package dev.qwen2j.tensor;

import dev.qwen2j.core.safetensors.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Keys and values of one layer for up to {@code capacity} positions, laid out {@code [kvHead][position][headDim]}
 * so that attention for one head scans one contiguous block. Elements are F32 or BF16.
 */
public record KvCacheLayer(MemorySegment keys, MemorySegment values, DType dtype,
                           int kvHeads, int capacity, int headDim) {

    public KvCacheLayer {
        if (dtype != DType.F32 && dtype != DType.BF16) {
            throw new IllegalArgumentException("KV cache holds F32 or BF16, not " + dtype);
        }
        long need = bytes(dtype, kvHeads, capacity, headDim);
        if (keys.byteSize() < need || values.byteSize() < need) {
            throw new IllegalArgumentException("KV cache segments hold fewer than " + need + " bytes");
        }
    }

    /** Allocates a zeroed layer from {@code arena}. */
    public static KvCacheLayer allocate(Arena arena, DType dtype, int kvHeads, int capacity, int headDim) {
        long bytes = bytes(dtype, kvHeads, capacity, headDim);
        return new KvCacheLayer(arena.allocate(bytes, 64), arena.allocate(bytes, 64), dtype, kvHeads, capacity, headDim);
    }

    /** Bytes of the keys (or of the values) of one layer. */
    public static long bytes(DType dtype, int kvHeads, int capacity, int headDim) {
        return (long) kvHeads * capacity * headDim * dtype.byteSize();
    }

    /** Byte offset of head {@code kvHead} at {@code position}. */
    public long offset(int kvHead, int position) {
        return ((long) kvHead * capacity + position) * headDim * dtype.byteSize();
    }
}
