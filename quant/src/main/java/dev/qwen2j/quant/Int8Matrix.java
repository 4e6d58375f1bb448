package dev.qwen2j.quant;

import dev.qwen2j.tensor.NativeMemory;
import dev.qwen2j.tensor.PackedKernels;
import dev.qwen2j.tensor.PackedMatrix;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A symmetric int8 matrix, {@code W[r, k] = value(r, k) · scale(r, k / groupSize)}, in one of two layouts:
 * <ul>
 * <li>row-major (Hugging Face's {@code [out, in]}, as a compressed-tensors folder stores it, and as the file writer
 *     and the CUDA upload read it): values {@code [rows, cols]}, F32 scales {@code [rows, cols / groupSize]};</li>
 * <li>{@code tiled}, the CPU decode layout: rows in tiles of {@value #TILE_ROWS}, each tile input-major, so that input
 *     k of the tile's rows is one 64-byte line ({@code [rows / 64, cols, 64]}), and the scales likewise
 *     ({@code [rows / 64, groups, 64]}). A decode step then reads one sequential stream, multiplies whole vectors of
 *     rows by one broadcast input, and scales a group with one vector multiply: no per-row scalar scale and no lane
 *     sum. Measured 1.6-1.9x the bandwidth of the row-major group-32 kernel (4864 x 896, 2 threads, from DRAM,
 *     AVX-512 Zen 4).</li>
 * </ul>
 * The scales live on the heap as F32 whatever dtype a file stores them in.
 *
 * @param groupSize inputs per scale; {@code cols} for one scale per row
 */
public record Int8Matrix(String name, MemorySegment weights, float[] scales, int rows, int cols, int groupSize,
                         boolean tiled) implements PackedMatrix {

    /** Rows per tile of the tiled layout: one cache line of int8 per input. */
    public static final int TILE_ROWS = 64;

    /** A row-major matrix. */
    public Int8Matrix(String name, MemorySegment weights, float[] scales, int rows, int cols, int groupSize) {
        this(name, weights, scales, rows, cols, groupSize, false);
    }

    public Int8Matrix {
        if (rows < 0 || cols <= 0 || groupSize <= 0 || cols % groupSize != 0) {
            throw new IllegalArgumentException(name + ": group size " + groupSize + " does not divide the " + cols
                    + " inputs of a row");
        }
        if (weights.byteSize() < (long) rows * cols) {
            throw new IllegalArgumentException(name + ": " + weights.byteSize() + " bytes cannot hold int8 ["
                    + rows + ", " + cols + "]");
        }
        if (scales.length != (long) rows * (cols / groupSize)) {
            throw new IllegalArgumentException(name + ": " + scales.length + " scales for " + rows + " rows of "
                    + cols / groupSize + " groups");
        }
        if (tiled && !tileable(rows, groupSize)) {
            throw new IllegalArgumentException(name + ": " + rows + " rows of groups of " + groupSize
                    + " cannot be tiled (rows a multiple of " + TILE_ROWS + ", groups of whole blocks of "
                    + Int8Input.BLOCK + ")");
        }
    }

    private static final boolean TILED_ON_CPU = !"false".equalsIgnoreCase(System.getProperty("qwen2j.int8.tiled"));

    /**
     * Whether the CPU backend's int8 matrices take the tiled layout (where their shape allows) at {@code vectorBits}:
     * at 256 and 512 bits. Measured on the 0.5B shape, 2 threads, AVX-512 Zen 4, against row-major with each width's
     * default activations: decode 1.2-1.3x and prefill 1.1x at 512 bits; about even at 256; at 128 bits (16 registers)
     * slower, 12.4 against 16.7 tok/s, so 128 bits and the scalar fallback stay row-major.
     * {@code -Dqwen2j.int8.tiled=false} keeps every width row-major: a stored folder is then used in place, mapped,
     * instead of copied into the layout while loading.
     */
    public static boolean tiledAt(int vectorBits) {
        return TILED_ON_CPU && vectorBits >= 256;
    }

    /** Whether a matrix of this shape can take the tiled layout. */
    public static boolean tileable(int rows, int groupSize) {
        return rows % TILE_ROWS == 0 && groupSize % Int8Input.BLOCK == 0;
    }

    /** Byte offset of {@code W[row, col]}'s value in {@link #weights}. */
    long offset(int row, int col) {
        return tiled ? (long) (row - row % TILE_ROWS) * cols + (long) col * TILE_ROWS + row % TILE_ROWS
                : (long) row * cols + col;
    }

    /** Index of the scale of {@code row}'s group {@code g} in {@link #scales}. */
    int scaleIndex(int row, int g) {
        return tiled ? (row - row % TILE_ROWS) * groups() + g * TILE_ROWS + row % TILE_ROWS : row * groups() + g;
    }

    /** The scale of {@code row}'s group {@code g}. */
    public float scale(int row, int g) {
        return scales[scaleIndex(row, g)];
    }

    /** Scales per row. */
    public int groups() {
        return cols / groupSize;
    }

    /** The int8 value at {@code [row, col]}. */
    public byte value(int row, int col) {
        return weights.get(ValueLayout.JAVA_BYTE, offset(row, col));
    }

    @Override
    public int rowAlignment() {
        return tiled ? TILE_ROWS : 1;
    }

    /** This matrix in the tiled layout, off-heap (see {@link NativeMemory}); itself if it is tiled already. */
    public Int8Matrix toTiled() {
        if (tiled) {
            return this;
        }
        Int8Matrix target = allocateTiled(name, rows, cols, groupSize);
        target.copyRows(this, 0, rows);
        return target;
    }

    /** A tiled matrix of this shape to be filled, off-heap and not zeroed; its scales start at zero. */
    public static Int8Matrix allocateTiled(String name, int rows, int cols, int groupSize) {
        return new Int8Matrix(name, NativeMemory.uninitialized((long) rows * cols), new float[rows * (cols / groupSize)],
                rows, cols, groupSize, true);
    }

    /** Rows {@code [from, to)} of {@code source} (same shape, any layout) copied into this matrix's layout. */
    void copyRows(Int8Matrix source, int from, int to) {
        Int8RowWriter writer = new Int8RowWriter(this);
        byte[] row = new byte[cols];
        float[] rowScales = new float[groups()];
        for (int r = from; r < to; r++) {
            for (int g = 0; g < rowScales.length; g++) {
                rowScales[g] = source.scale(r, g);
            }
            if (!source.tiled) {
                MemorySegment.copy(source.weights, ValueLayout.JAVA_BYTE, (long) r * cols, row, 0, cols);
            } else {
                for (int k = 0; k < cols; k++) {
                    row[k] = source.value(r, k);
                }
            }
            writer.write(r, row, rowScales);
        }
        writer.flush();
    }

    @Override
    public long byteSize() {
        return (long) rows * cols + (long) scales.length * Float.BYTES;
    }

    @Override
    public void dequantize(int row, int k0, int width, float[] out, int offset) {
        long base = offset(row, 0);
        long step = tiled ? TILE_ROWS : 1;
        for (int k = k0; k < k0 + width; ) {
            int group = k / groupSize;
            int end = Math.min(k0 + width, (group + 1) * groupSize);
            float scale = scale(row, group);
            for (; k < end; k++) {
                out[offset + k - k0] = weights.get(ValueLayout.JAVA_BYTE, base + k * step) * scale;
            }
        }
    }

    @Override
    public PackedKernels<?> decodeKernels(int vectorBits) {
        return tiled ? Int8Decode.tiled(vectorBits) : Int8Decode.forBits(vectorBits);
    }
}
