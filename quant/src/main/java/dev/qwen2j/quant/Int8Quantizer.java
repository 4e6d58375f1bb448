package dev.qwen2j.quant;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.CpuBackend;
import dev.qwen2j.tensor.NativeMemory;
import dev.qwen2j.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Symmetric round-to-nearest int8, as compressed-tensors' min-max observer and {@code quantize} do it:
 * {@code scale = max|w| / 127} per group, {@code q = clamp(round(w / scale), -127, 127)} (ties to even, as torch
 * rounds). The scale is first rounded to the dtype it will be stored in, so that a file's int8 values are exactly the
 * ones its stored scales dequantize. Rows are independent: callers split a matrix across threads by rows.
 */
public final class Int8Quantizer {

    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private Int8Quantizer() {
    }

    /**
     * An int8 matrix of {@code source}'s shape to be filled by {@link #quantizeRows}, off-heap and not zeroed (see
     * {@link NativeMemory}), freed with the last reference to it; its scales start at zero.
     */
    public static Int8Matrix allocate(Tensor source, int groupSize) {
        return allocate(source, groupSize, false);
    }

    /** As above, in the {@linkplain Int8Matrix#tiled() tiled} layout if {@code tiled}. */
    public static Int8Matrix allocate(Tensor source, int groupSize, boolean tiled) {
        if (groupSize <= 0 || source.cols() % groupSize != 0) {
            throw new IllegalArgumentException(source.name() + ": group size " + groupSize
                    + " does not divide the " + source.cols() + " inputs of a row");
        }
        MemorySegment weights = NativeMemory.uninitialized((long) source.rows() * source.cols());
        return new Int8Matrix(source.name(), weights, new float[source.rows() * (source.cols() / groupSize)],
                source.rows(), source.cols(), groupSize, tiled);
    }

    /** {@code source} quantized in full on this thread, with F32 scales. */
    public static Int8Matrix quantize(Tensor source, int groupSize) {
        Int8Matrix target = allocate(source, groupSize);
        quantizeRows(source, target, 0, source.rows(), DType.F32);
        return target;
    }

    /**
     * Quantizes rows {@code [from, to)} of {@code source} into {@code target}, scales rounded to {@code scaleType}, with
     * the kernels of the width {@code CpuBackend.create} picks.
     */
    public static void quantizeRows(Tensor source, Int8Matrix target, int from, int to, DType scaleType) {
        quantizeRows(source, target, from, to, scaleType, DefaultWidth.BITS);
    }

    /** As above with the kernels of {@code vectorBits} (0: scalar); every width gives the same bits. */
    public static void quantizeRows(Tensor source, Int8Matrix target, int from, int to, DType scaleType,
                                    int vectorBits) {
        Int8Decode kernels = Int8Decode.forBits(vectorBits);
        int cols = source.cols();
        float[] row = new float[cols];
        short[] halves = new short[cols];
        byte[] quantized = new byte[cols];
        float[] rowScales = new float[target.groups()];
        Int8RowWriter writer = new Int8RowWriter(target);
        for (int r = from; r < to; r++) {
            kernels.readRow(source, r, row, halves);
            kernels.quantizeRow(row, target.groupSize(), scaleType, rowScales, 0, quantized);
            writer.write(r, quantized, rowScales);
        }
        writer.flush();
    }

    /** Looked up on first use: the Vector API check warns once where it is missing. */
    private static final class DefaultWidth {
        static final int BITS = CpuBackend.defaultVectorBits();
    }

    /**
     * {@code clamp(rint(v), -127, 127)}: clamped first (which changes no result), then rounded half to even by adding
     * and subtracting 1.5·2²³, exact IEEE float arithmetic for |v| ≤ 2²², and a loop C2 vectorizes (Math.rint is a
     * double round trip per weight).
     */
    static byte roundToInt8(float v) {
        float clamped = Math.max(-127f, Math.min(127f, v));
        return (byte) (int) ((clamped + ROUNDING) - ROUNDING);
    }

    static final float ROUNDING = 12582912f;

    /**
     * The scales alone, {@code [rows, cols / groupSize]}, exactly those {@link #quantizeRows} computes: for a writer
     * that must store the scales before the weights.
     */
    public static float[] scales(Tensor source, int groupSize, DType scaleType) {
        int groups = source.cols() / groupSize;
        float[] scales = new float[source.rows() * groups];
        float[] row = new float[source.cols()];
        short[] halves = new short[source.cols()];
        for (int r = 0; r < source.rows(); r++) {
            readRow(source, r, row, halves);
            for (int g = 0; g < groups; g++) {
                scales[r * groups + g] = groupScale(row, g * groupSize, groupSize, scaleType);
            }
        }
        return scales;
    }

    /** {@code max|row[k0 .. k0 + group)| / 127}, rounded to {@code scaleType}. */
    static float groupScale(float[] row, int k0, int group, DType scaleType) {
        // |w| compared as the bits of a positive float, which order like ints, as the vector kernels' int max does:
        // no float max with its NaN and -0 rules. A NaN weight still gives a NaN scale.
        int max = 0;
        for (int k = k0; k < k0 + group; k++) {
            max = Math.max(max, Float.floatToRawIntBits(row[k]) & 0x7FFF_FFFF);
        }
        return scaleOf(max, scaleType);
    }

    /** The scale of a group whose largest |w| has the bits {@code maxAbsBits}: {@code max / 127}, rounded to {@code scaleType}. */
    static float scaleOf(int maxAbsBits, DType scaleType) {
        return roundTo(Float.intBitsToFloat(maxAbsBits) / 127f, scaleType);
    }

    /**
     * Row {@code r} of an F32, BF16 or F16 tensor as F32. 16-bit rows are copied in bulk into {@code halves} first:
     * C2 vectorizes the conversion loop over an array, not over a segment's 16-bit reads.
     */
    static void readRow(Tensor source, int r, float[] out, short[] halves) {
        MemorySegment data = source.data();
        int cols = source.cols();
        long base = (long) r * cols;
        switch (source.dtype()) {
            case F32 -> MemorySegment.copy(data, FLOAT, 4 * base, out, 0, cols);
            case BF16 -> {
                MemorySegment.copy(data, SHORT, 2 * base, halves, 0, cols);
                for (int k = 0; k < cols; k++) {
                    out[k] = Float.intBitsToFloat(halves[k] << 16);
                }
            }
            case F16 -> {
                MemorySegment.copy(data, SHORT, 2 * base, halves, 0, cols);
                for (int k = 0; k < cols; k++) {
                    out[k] = Float.float16ToFloat(halves[k]);
                }
            }
            default -> throw new IllegalArgumentException(source.name() + ": cannot quantize " + source.dtype()
                    + " weights (F32, BF16 or F16)");
        }
    }

    /** {@code value} rounded to the nearest {@code dtype} (F32, BF16 or F16), back as F32. */
    static float roundTo(float value, DType dtype) {
        return switch (dtype) {
            case F32 -> value;
            case BF16 -> {
                int bits = Float.floatToRawIntBits(value);
                yield Float.intBitsToFloat(((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16) << 16);
            }
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(value));
            default -> throw new IllegalArgumentException("scales are F32, BF16 or F16, not " + dtype);
        };
    }
}
