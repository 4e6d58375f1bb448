package dev.qwen2j.quant;

import dev.qwen2j.core.safetensors.Checkpoint;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.core.safetensors.MappedTensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Reads one Linear module's int8 weights from a compressed-tensors checkpoint: {@code <module>.weight} (I8,
 * {@code [out, in]}, used in place, mapped), or for {@code pack-quantized} {@code <module>.weight_packed} (I32
 * {@code [out, ceil(in / 4)]}, each int32 four values + 128 from its low byte up, unpacked here into int8) with
 * {@code <module>.weight_shape}; and {@code <module>.weight_scale} (F32, BF16 or F16; {@code [out, 1]} for
 * channel, {@code [out, in / group_size]} for group, {@code [1]} for tensor), converted to F32. A
 * {@code weight_zero_point} must be all zeros (symmetric); a {@code weight_g_idx} (activation order) is refused.
 */
public final class StoredInt8 {

    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private StoredInt8() {
    }

    /** The int8 matrix of {@code module} ({@code [rows, cols]} by config.json), stored as {@code group} says. */
    public static Int8Matrix load(Checkpoint checkpoint, String module, CompressedTensors.Group group, int rows, int cols)
            throws IOException {
        if (group.packed()) {
            return unpack(checkpoint, module, group, rows, cols);
        }
        MappedTensor weight = require(checkpoint, module + ".weight", group);
        if (weight.dtype() != DType.I8) {
            throw new IOException(weight.file() + ": tensor " + weight.name() + " has dtype " + weight.dtype()
                    + " but quantization_config.config_groups." + group.name() + " quantizes it: expected I8");
        }
        if (!Arrays.equals(weight.shape(), new long[]{rows, cols})) {
            throw new IOException(weight.file() + ": tensor " + weight.name() + " has shape " + Arrays.toString(weight.shape())
                    + " but config.json implies [" + rows + ", " + cols + "]");
        }
        return new Int8Matrix(weight.name(), weight.data(), scales(checkpoint, module, group, weight, rows, cols),
                rows, cols, groupSize(weight, group, cols));
    }

    /** pack-quantized, 8 bits: four unsigned bytes (value + 128) per int32, little-endian, rows padded to whole int32s. */
    private static Int8Matrix unpack(Checkpoint checkpoint, String module, CompressedTensors.Group group, int rows,
                                     int cols) throws IOException {
        MappedTensor packed = require(checkpoint, module + ".weight_packed", group);
        long packedCols = (cols + 3) / 4;
        if (packed.dtype() != DType.I32 || !Arrays.equals(packed.shape(), new long[]{rows, packedCols})) {
            throw new IOException(packed.file() + ": tensor " + packed.name() + " is " + packed.dtype() + " "
                    + Arrays.toString(packed.shape()) + " but 8-bit pack-quantized [" + rows + ", " + cols
                    + "] is I32 [" + rows + ", " + packedCols + "]");
        }
        MappedTensor shape = require(checkpoint, module + ".weight_shape", group);
        if (shape.elementCount() != 2 || shape.dtype() != DType.I32 && shape.dtype() != DType.I64
                || element(shape, 0) != rows || element(shape, 1) != cols) {
            throw new IOException(shape.file() + ": tensor " + shape.name() + " does not hold [" + rows + ", " + cols + "]");
        }
        int groupSize = groupSize(packed, group, cols);
        float[] scales = scales(checkpoint, module, group, packed, rows, cols);
        MemorySegment values = java.lang.foreign.Arena.ofAuto().allocate((long) rows * cols, 64);
        MemorySegment source = packed.data();
        for (long r = 0; r < rows; r++) {
            for (long k = 0; k < cols; k++) {
                byte unsigned = source.get(ValueLayout.JAVA_BYTE, r * packedCols * 4 + k);
                values.set(ValueLayout.JAVA_BYTE, r * cols + k, (byte) (unsigned ^ 0x80)); // u - 128
            }
        }
        return new Int8Matrix(module + ".weight", values, scales, rows, cols, groupSize);
    }

    private static long element(MappedTensor t, int i) {
        return t.dtype() == DType.I64 ? t.data().get(ValueLayout.JAVA_LONG_UNALIGNED, 8L * i)
                : t.data().get(ValueLayout.JAVA_INT_UNALIGNED, 4L * i);
    }

    private static int groupSize(MappedTensor weight, CompressedTensors.Group group, int cols) throws IOException {
        int groupSize = switch (group.strategy()) {
            case GROUP -> group.groupSize();
            case CHANNEL, TENSOR -> cols;
        };
        if (cols % groupSize != 0) {
            throw new IOException(weight.file() + ": tensor " + weight.name() + ": quantization_config.config_groups."
                    + group.name() + ".weights.group_size " + groupSize + " does not divide its rows of " + cols);
        }
        return groupSize;
    }

    /** {@code <module>.weight_scale} as F32, checked against the strategy; zero points and g_idx checked too. */
    private static float[] scales(Checkpoint checkpoint, String module, CompressedTensors.Group group, MappedTensor weight,
                                  int rows, int cols) throws IOException {
        int groupSize = groupSize(weight, group, cols);
        MappedTensor scale = require(checkpoint, module + ".weight_scale", group);
        long[] expected = switch (group.strategy()) {
            case GROUP -> new long[]{rows, cols / groupSize};
            case CHANNEL -> new long[]{rows, 1};
            case TENSOR -> new long[]{1};
        };
        boolean tensorScalar = group.strategy() == CompressedTensors.Strategy.TENSOR && scale.elementCount() == 1;
        if (!Arrays.equals(scale.shape(), expected) && !tensorScalar) {
            throw new IOException(scale.file() + ": tensor " + scale.name() + " has shape " + Arrays.toString(scale.shape())
                    + " but strategy " + group.strategy().name().toLowerCase(java.util.Locale.ROOT) + " of " + weight.name()
                    + " " + Arrays.toString(weight.shape()) + " implies " + Arrays.toString(expected));
        }
        if (scale.dtype() != DType.F32 && scale.dtype() != DType.BF16 && scale.dtype() != DType.F16) {
            throw new IOException(scale.file() + ": tensor " + scale.name() + " has dtype " + scale.dtype()
                    + "; weight scales are F32, BF16 or F16");
        }
        float[] scales = new float[rows * (cols / groupSize)];
        for (int i = 0; i < scales.length; i++) {
            scales[i] = read(scale, tensorScalar ? 0 : i);
            if (!Float.isFinite(scales[i])) {
                throw new IOException(scale.file() + ": tensor " + scale.name() + " holds a non-finite scale at " + i);
            }
        }
        checkZeroPoint(checkpoint, module, scale);
        if (checkpoint.find(module + ".weight_g_idx").isPresent()) {
            throw new IOException(checkpoint.path() + ": tensor " + module + ".weight_g_idx: activation ordering is not supported");
        }
        return scales;
    }

    private static MappedTensor require(Checkpoint checkpoint, String name, CompressedTensors.Group group) throws IOException {
        return checkpoint.find(name).orElseThrow(() -> new IOException(checkpoint.path() + ": tensor " + name
                + " is missing (quantization_config.config_groups." + group.name() + " quantizes its module)"));
    }

    /** Symmetric quantization stores no zero point, or (older writers) zeros. */
    private static void checkZeroPoint(Checkpoint checkpoint, String module, MappedTensor scale) throws IOException {
        MappedTensor zero = checkpoint.find(module + ".weight_zero_point").orElse(null);
        if (zero == null) {
            return;
        }
        if (zero.elementCount() != scale.elementCount()) {
            throw new IOException(zero.file() + ": tensor " + zero.name() + " has shape " + Arrays.toString(zero.shape())
                    + ", unlike " + scale.name() + " " + Arrays.toString(scale.shape()));
        }
        MemorySegment bytes = zero.data();
        for (long i = 0; i < bytes.byteSize(); i++) {
            if (bytes.get(ValueLayout.JAVA_BYTE, i) != 0) {
                throw new IOException(zero.file() + ": tensor " + zero.name()
                        + " holds non-zero zero points: asymmetric quantization is not supported");
            }
        }
    }

    private static float read(MappedTensor t, long i) {
        return switch (t.dtype()) {
            case F32 -> t.data().get(FLOAT, 4 * i);
            case BF16 -> Float.intBitsToFloat((t.data().get(SHORT, 2 * i) & 0xFFFF) << 16);
            case F16 -> Float.float16ToFloat(t.data().get(SHORT, 2 * i));
            default -> throw new IllegalStateException(t.dtype().name());
        };
    }
}
