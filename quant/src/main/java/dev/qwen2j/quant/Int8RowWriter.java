package dev.qwen2j.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

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
            // In 64 × 64 blocks, whose 4 KB read and 4 KB written stay in L1: a whole row at a time writes the
            // tile's buffer 64 bytes apart and spills it (measured about 0.7 s more to quantize the 0.5B shape).
            for (int k0 = 0; k0 < cols; k0 += TILE) {
                int k1 = Math.min(cols, k0 + TILE);
                for (int i = 0; i < TILE; i++) {
                    for (int k = k0, from = i * cols; k < k1; k++) {
                        transposed[k * TILE + i] = rows[from + k];
                    }
                }
            }
            MemorySegment.copy(transposed, 0, target.weights(), ValueLayout.JAVA_BYTE, (long) tileStart * cols,
                    transposed.length);
            tileStart = -1;
            filled = 0;
        }
    }

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
