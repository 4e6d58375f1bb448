package dev.qwen2j.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Stores rows of an {@link Int8Matrix} in either layout. Tiled, the rows of a whole tile, written in order from its first, are gathered and
 * stored as one transposed block: a row alone is {@code cols} single-byte stores 64 bytes apart. Rows of a tile
 * that a range cuts are stored one by one. Not thread-safe; {@link #flush} after the last row.
 */
final class Int8RowWriter {
    private static final int TILE = Int8Matrix.TILE_ROWS;

    private final Int8Matrix target;
    private final int cols;
    private final byte[] rows;
    private final byte[] transposed;
    private int tileStart = -1;
    private int filled;

    Int8RowWriter(Int8Matrix target) {
        this.target = target;
        this.cols = target.cols();
        this.rows = new byte[target.tiled() ? TILE * cols : 0];
        this.transposed = new byte[rows.length];
    }

    /** Row {@code r}: its values {@code values[0 .. cols)} and its scales {@code rowScales[0 .. groups)}. */
    void write(int r, byte[] values, float[] rowScales) {
        for (int g = 0; g < target.groups(); g++) {
            target.scales()[target.scaleIndex(r, g)] = rowScales[g];
        }
        if (!target.tiled()) {
            MemorySegment.copy(values, 0, target.weights(), ValueLayout.JAVA_BYTE, (long) r * cols, cols);
            return;
        }
        if (r % TILE == 0) {
            flush();
            tileStart = r;
        }
        if (tileStart < 0 || r != tileStart + filled) {
            scatter(r, values, 0);
            return;
        }
        System.arraycopy(values, 0, rows, filled * cols, cols);
        if (++filled == TILE) {
            transposeTile();
            MemorySegment.copy(transposed, 0, target.weights(), ValueLayout.JAVA_BYTE, (long) tileStart * cols,
                    transposed.length);
            tileStart = -1;
            filled = 0;
        }
    }

    /**
     * {@code transposed[k·64 + i] = rows[i·cols + k]}, in blocks of 8 rows × 8 inputs: eight longs, transposed as an
     * 8 × 8 byte matrix by swapping bytes, then 16-bit, then 32-bit halves between words. Storing a byte at a time
     * (in 64 × 64 blocks) made tiled quantizing of the 0.5B shape cost 230 ms more than row-major, this about 100 ms
     * (warm, 2 threads). The tiled layout has {@code cols % 32 == 0}.
     */
    private void transposeTile() {
        for (int i0 = 0; i0 < TILE; i0 += 8) {
            for (int k0 = 0; k0 < cols; k0 += 8) {
                int from = i0 * cols + k0;
                long a0 = (long) LONGS.get(rows, from), a1 = (long) LONGS.get(rows, from + cols);
                long a2 = (long) LONGS.get(rows, from + 2 * cols), a3 = (long) LONGS.get(rows, from + 3 * cols);
                long a4 = (long) LONGS.get(rows, from + 4 * cols), a5 = (long) LONGS.get(rows, from + 5 * cols);
                long a6 = (long) LONGS.get(rows, from + 6 * cols), a7 = (long) LONGS.get(rows, from + 7 * cols);
                long t;
                t = ((a0 >>> 8) ^ a1) & BYTES; a1 ^= t; a0 ^= t << 8;
                t = ((a2 >>> 8) ^ a3) & BYTES; a3 ^= t; a2 ^= t << 8;
                t = ((a4 >>> 8) ^ a5) & BYTES; a5 ^= t; a4 ^= t << 8;
                t = ((a6 >>> 8) ^ a7) & BYTES; a7 ^= t; a6 ^= t << 8;
                t = ((a0 >>> 16) ^ a2) & SHORTS; a2 ^= t; a0 ^= t << 16;
                t = ((a1 >>> 16) ^ a3) & SHORTS; a3 ^= t; a1 ^= t << 16;
                t = ((a4 >>> 16) ^ a6) & SHORTS; a6 ^= t; a4 ^= t << 16;
                t = ((a5 >>> 16) ^ a7) & SHORTS; a7 ^= t; a5 ^= t << 16;
                t = ((a0 >>> 32) ^ a4) & INTS; a4 ^= t; a0 ^= t << 32;
                t = ((a1 >>> 32) ^ a5) & INTS; a5 ^= t; a1 ^= t << 32;
                t = ((a2 >>> 32) ^ a6) & INTS; a6 ^= t; a2 ^= t << 32;
                t = ((a3 >>> 32) ^ a7) & INTS; a7 ^= t; a3 ^= t << 32;
                int to = k0 * TILE + i0;
                LONGS.set(transposed, to, a0);
                LONGS.set(transposed, to + TILE, a1);
                LONGS.set(transposed, to + 2 * TILE, a2);
                LONGS.set(transposed, to + 3 * TILE, a3);
                LONGS.set(transposed, to + 4 * TILE, a4);
                LONGS.set(transposed, to + 5 * TILE, a5);
                LONGS.set(transposed, to + 6 * TILE, a6);
                LONGS.set(transposed, to + 7 * TILE, a7);
            }
        }
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long BYTES = 0x00FF00FF00FF00FFL, SHORTS = 0x0000FFFF0000FFFFL, INTS = 0x00000000FFFFFFFFL;

    /** Stores the rows of a tile begun but not completed. */
    void flush() {
        for (int i = 0; i < filled; i++) {
            scatter(tileStart + i, rows, i * cols);
        }
        tileStart = -1;
        filled = 0;
    }

    private void scatter(int r, byte[] values, int from) {
        long base = target.offset(r, 0);
        for (int k = 0; k < cols; k++) {
            target.weights().set(ValueLayout.JAVA_BYTE, base + (long) k * TILE, values[from + k]);
        }
    }
}
