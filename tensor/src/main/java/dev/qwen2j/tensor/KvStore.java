package dev.qwen2j.tensor;

import dev.qwen2j.core.safetensors.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Writes one head's key or value of one position into its page, in the layout {@link KvCacheLayer} documents:
 * keys down a column of the transposed {@code [headDim][PAGE]} block, values as a row. BF16 rounds to nearest
 * even; I8 stores {@code round(x / s)} with {@code s = max|x| / 127} for that head and position (symmetric,
 * as llama.cpp's Q8_0 does per block), and the scale beside it.
 */
final class KvStore {

    private KvStore() {
    }

    static void key(KvCacheLayer cache, int page, int kvHead, int slot, float[] src, int offset) {
        int headDim = cache.headDim();
        float scale = cache.dtype() == DType.I8 ? storeScale(cache.keyScales(), cache.scaleIndex(page, kvHead, slot), src, offset, headDim) : 1f;
        for (int d = 0; d < headDim; d++) {
            write(cache.keys(), cache.dtype(), cache.keyIndex(page, kvHead, d) + slot, src[offset + d], scale);
        }
    }

    static void value(KvCacheLayer cache, int page, int kvHead, int slot, float[] src, int offset) {
        int headDim = cache.headDim();
        float scale = cache.dtype() == DType.I8 ? storeScale(cache.valueScales(), cache.scaleIndex(page, kvHead, slot), src, offset, headDim) : 1f;
        long base = cache.valueIndex(page, kvHead, slot);
        for (int d = 0; d < headDim; d++) {
            write(cache.values(), cache.dtype(), base + d, src[offset + d], scale);
        }
    }

    /** The I8 scale of {@code src[offset .. offset + n)}, stored at {@code index} of {@code scales}. */
    private static float storeScale(MemorySegment scales, long index, float[] src, int offset, int n) {
        float max = 0f;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, Math.abs(src[offset + i]));
        }
        float scale = max / 127f;
        scales.setAtIndex(Numbers.FLOAT, index, scale);
        return scale;
    }

    private static void write(MemorySegment data, DType dtype, long index, float value, float scale) {
        if (dtype == DType.I8) {
            int quantized = scale == 0f ? 0 : Math.round(value / scale);
            data.set(ValueLayout.JAVA_BYTE, index, (byte) Math.max(-127, Math.min(127, quantized)));
        } else {
            Numbers.write(data, dtype, index, value);
        }
    }
}
