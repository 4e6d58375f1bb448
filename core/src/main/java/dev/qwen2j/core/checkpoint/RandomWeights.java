package dev.qwen2j.core.checkpoint;

import dev.qwen2j.core.safetensors.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.stream.LongStream;

/**
 * Fills tensors with approximately normal values, fast: one 64-bit SplitMix step per element, the
 * sum of its four 16-bit parts (Irwin-Hall, n = 4) rescaled to unit variance. Deterministic for a
 * given seed whatever the number of threads: each 64K-element chunk has its own stream.
 */
final class RandomWeights {

    private static final int CHUNK = 1 << 16;
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Sum of four U(0,1) has mean 2 and variance 1/3. */
    private static final float UNIT_SCALE = (float) (Math.sqrt(3.0) / 65536.0);

    private RandomWeights() {
    }

    /** Fills {@code target} (elements of {@code dtype}) with mean + std * N(0,1)-ish values. */
    static void fill(MemorySegment target, DType dtype, long seed, float mean, float std) {
        long elements = target.byteSize() / dtype.byteSize();
        long chunks = (elements + CHUNK - 1) / CHUNK;
        LongStream.range(0, chunks).parallel().forEach(chunk -> {
            long start = chunk * CHUNK;
            long end = Math.min(elements, start + CHUNK);
            fillChunk(target, dtype, mix(seed ^ mix(chunk + 1)), start, end, mean, std);
        });
    }

    private static void fillChunk(MemorySegment target, DType dtype, long state, long start, long end,
                                  float mean, float std) {
        float scale = std * UNIT_SCALE;
        float offset = mean - 2.0f * std * (float) Math.sqrt(3.0);
        switch (dtype) {
            case F32 -> {
                for (long i = start; i < end; i++) {
                    state += GOLDEN;
                    target.set(F32, i * 4, offset + scale * fourUniforms(mix(state)));
                }
            }
            case BF16 -> {
                for (long i = start; i < end; i++) {
                    state += GOLDEN;
                    target.set(I16, i * 2, toBf16(offset + scale * fourUniforms(mix(state))));
                }
            }
            case F16 -> {
                for (long i = start; i < end; i++) {
                    state += GOLDEN;
                    target.set(I16, i * 2, Float.floatToFloat16(offset + scale * fourUniforms(mix(state))));
                }
            }
            default -> throw new IllegalArgumentException("random weights are F32, BF16 or F16, not " + dtype);
        }
    }

    /** The sum of the four 16-bit parts of {@code r}: 0 .. 4 * 65535. */
    private static long fourUniforms(long r) {
        return (r & 0xFFFF) + ((r >>> 16) & 0xFFFF) + ((r >>> 32) & 0xFFFF) + (r >>> 48);
    }

    /** Rounds to the nearest bfloat16, ties to even (values here are finite). */
    static short toBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** SplitMix64's finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
