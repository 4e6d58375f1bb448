package dev.qwen2j.tensor;

import dev.qwen2j.core.safetensors.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Scalar conversions between the stored element types and F32. */
public final class Numbers {

    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Numbers() {
    }

    /** bf16 is the upper half of an f32: widen by shifting 16 bits left. */
    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Rounds to the nearest bf16, ties to even, as torch does; NaN stays a (quiet) NaN. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** Element {@code index} of a segment of F32, F16 or BF16 values, as F32. */
    static float read(MemorySegment data, DType dtype, long index) {
        return switch (dtype) {
            case F32 -> data.get(FLOAT, index * 4);
            case BF16 -> bf16ToFloat(data.get(SHORT, index * 2));
            case F16 -> Float.float16ToFloat(data.get(SHORT, index * 2));
            case I8 -> data.get(java.lang.foreign.ValueLayout.JAVA_BYTE, index); // the integer; scales apply apart
            default -> throw new IllegalArgumentException("unsupported element type " + dtype);
        };
    }

    /** Stores {@code value} as element {@code index} of an F32 or BF16 segment. */
    static void write(MemorySegment data, DType dtype, long index, float value) {
        switch (dtype) {
            case F32 -> data.set(FLOAT, index * 4, value);
            case BF16 -> data.set(SHORT, index * 2, floatToBf16(value));
            case F16 -> data.set(SHORT, index * 2, Float.floatToFloat16(value));
            default -> throw new IllegalArgumentException("unsupported element type " + dtype);
        }
    }

    /** All of a 1-row (or any) tensor as F32. */
    static float[] toFloats(Tensor tensor) {
        float[] out = new float[Math.multiplyExact(tensor.rows(), tensor.cols())];
        for (int i = 0; i < out.length; i++) {
            out[i] = read(tensor.data(), tensor.dtype(), i);
        }
        return out;
    }

    static float silu(float x) {
        return x / (1f + (float) Math.exp(-x));
    }
}
