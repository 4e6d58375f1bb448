package dev.qwen2j.quant;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.SpeciesCopies;
import dev.qwen2j.tensor.Tensor;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.nio.ByteOrder;

/**
 * Vector API int8 decode kernels, one compiled copy per width ({@link SpeciesCopies}; so no nested classes here).
 * The kernels for groups of whole blocks take rows in pairs {@code (r, r + half)} of the range: two sequential streams
 * (see {@link #partner}). Each row is walked in blocks of {@value #BLOCK} inputs (the smallest group size, and the
 * activation block of int8 × int8). Each block's body is a loop of constant trip count, which C2 unrolls fully: a
 * short inner loop whose bounds depend on the group size kept its vector accumulators in memory and ran 3–5× slower
 * (measured at 256 bits). The block's sum is scaled once and added to the row's accumulator.
 * <ul>
 * <li>int8 × F32: {@code L} int8 weights are loaded and widened to one F32 vector ({@code vpmovsxbd} +
 *     {@code vcvtdq2ps}); at 128 bits, where no 32-bit byte species exists, 8 bytes are loaded and widened in two
 *     parts.</li>
 * <li>int8 × int8: {@code 2L} weights widen to 16 bits and multiply the 16-bit activations; two such products
 *     (|p| ≤ 128·127 each) still fit in 16 bits, and a 16 → 32-bit pair sum by shifts replaces the multiply-add
 *     instruction the Vector API does not expose.</li>
 * </ul>
 * Group sizes that are not multiples of {@value #BLOCK} take a slower generic path with scalar tails. A
 * {@linkplain Int8Matrix#tiled() tiled} matrix has its own decode kernel ({@link #matvecF32Tiled}) and prefill kernel
 * ({@link #matmul}), both multiplying whole vectors of rows by broadcast inputs.
 *
 * <p>Loaded only after {@code jdk.incubator.vector} was found; see {@link Int8Decode}.
 */
final class VectorInt8Kernels implements Int8Kernels {

    static final VectorSpecies<Float> F = SpeciesCopies.floatSpecies(MethodHandles.lookup());
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final int L = F.length();
    /** Whether L bytes are too few for a byte species (128 bits: 32-bit bytes), so 2L are loaded and split. */
    static final boolean SPLIT = L < 8;
    /** The bytes of one F32 vector's weights: L of them, or 2L where {@link #SPLIT}. */
    static final VectorSpecies<Byte> WEIGHTS = VectorSpecies.of(byte.class, VectorShape.forBitSize(SPLIT ? 64 : 8 * L));
    /** Weights per load of {@link #WEIGHTS}. */
    static final int STEP = SPLIT ? 2 * L : L;
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, F.vectorShape());
    /** Half a vector of bytes: widened, they fill {@link #S}. */
    static final VectorSpecies<Byte> HALF = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final int SL = S.length();
    /** L shorts: one vector of bf16 weights, widened to F32. */
    static final VectorSpecies<Short> WIDENED = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final int BLOCK = Int8Input.BLOCK;
    /** Where {@link #sumLanes} spills a vector: one per thread. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @Override
    public void matvecF32(Int8Matrix w, int rowFrom, int rowTo, float[] x, float[] y, int yColumn, float[] bias) {
        int group = w.groupSize();
        if (w.tiled()) {
            matvecF32Tiled(w, rowFrom, rowTo, x, y, yColumn, bias);
        } else if (group % BLOCK != 0) {
            matvecF32AnyGroup(w, rowFrom, rowTo, x, y, yColumn, bias);
        } else if (group == w.cols()) {
            matvecF32PerRow(w, rowFrom, rowTo, x, y, yColumn, bias);
        } else {
            matvecF32Groups(w, rowFrom, rowTo, x, y, yColumn, bias);
        }
    }

    /**
     * One scale per row (compressed-tensors' {@code channel}): two accumulator chains over each row, scaled once.
     * No per-block step in the loop: it is the fewest instructions per weight byte, and in decode each one costs
     * bandwidth, since loads waiting behind them hold fewer cache misses in flight. Rows in pairs (see {@link #partner}).
     */
    private static void matvecF32PerRow(Int8Matrix w, int rowFrom, int rowTo, float[] x, float[] y, int yColumn,
                                        float[] bias) {
        float[] lanes = LANES.get();
        MemorySegment data = w.weights();
        float[] scales = w.scales();
        int cols = w.cols();
        int half = (rowTo - rowFrom + 1) / 2;
        for (int r0 = rowFrom; r0 < rowFrom + half; r0++) {
            int r1 = partner(r0, half, rowTo);
            long base0 = (long) r0 * cols;
            long base1 = (long) r1 * cols;
            FloatVector acc00 = FloatVector.zero(F);
            FloatVector acc01 = FloatVector.zero(F);
            FloatVector acc10 = FloatVector.zero(F);
            FloatVector acc11 = FloatVector.zero(F);
            for (int k0 = 0; k0 < cols; k0 += BLOCK) {
                for (int j = 0; j < BLOCK; j += 2 * STEP) {
                    acc00 = fmaWeights(data, base0 + k0 + j, x, k0 + j, acc00);
                    acc01 = fmaWeights(data, base0 + k0 + j + STEP, x, k0 + j + STEP, acc01);
                    acc10 = fmaWeights(data, base1 + k0 + j, x, k0 + j, acc10);
                    acc11 = fmaWeights(data, base1 + k0 + j + STEP, x, k0 + j + STEP, acc11);
                }
            }
            store(y, yColumn, r0, sumLanes(acc00.add(acc01), lanes) * scales[r0], bias);
            if (r1 != r0) {
                store(y, yColumn, r1, sumLanes(acc10.add(acc11), lanes) * scales[r1], bias);
            }
        }
    }

    /**
     * The row computed beside {@code r0} (one of the first {@code half} of a range ending at {@code rowTo}):
     * {@code r0 + half}, or {@code r0} itself for the middle row of an odd range, computed twice and stored once.
     * Pairs {@code (r, r + half)} share the input loads and read two ascending weight streams, which the hardware
     * prefetchers keep fuller than one: measured 1.1-1.25x the bandwidth of one row at a time (AVX-512 Zen 4, 2
     * threads, from DRAM). Each row's sums are added in the same order either way.
     */
    private static int partner(int r0, int half, int rowTo) {
        return r0 + half < rowTo ? r0 + half : r0;
    }

    /** Groups of a multiple of {@value #BLOCK} inputs: each block's sum scaled by its group's scale. Rows in pairs. */
    private static void matvecF32Groups(Int8Matrix w, int rowFrom, int rowTo, float[] x, float[] y, int yColumn,
                                        float[] bias) {
        float[] lanes = LANES.get();
        MemorySegment data = w.weights();
        float[] scales = w.scales();
        int cols = w.cols();
        int groups = w.groups();
        int blocksPerGroup = w.groupSize() / BLOCK;
        int half = (rowTo - rowFrom + 1) / 2;
        for (int r0 = rowFrom; r0 < rowFrom + half; r0++) {
            int r1 = partner(r0, half, rowTo);
            long base0 = (long) r0 * cols;
            long base1 = (long) r1 * cols;
            int scale0 = r0 * groups;
            int scale1 = r1 * groups;
            int left = blocksPerGroup;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            for (int k0 = 0; k0 < cols; k0 += BLOCK) {
                FloatVector block0 = FloatVector.zero(F);
                FloatVector block1 = FloatVector.zero(F);
                for (int j = 0; j < BLOCK; j += STEP) {
                    block0 = fmaWeights(data, base0 + k0 + j, x, k0 + j, block0);
                    block1 = fmaWeights(data, base1 + k0 + j, x, k0 + j, block1);
                }
                acc0 = block0.fma(FloatVector.broadcast(F, scales[scale0]), acc0);
                acc1 = block1.fma(FloatVector.broadcast(F, scales[scale1]), acc1);
                if (--left == 0) {
                    scale0++;
                    scale1++;
                    left = blocksPerGroup;
                }
            }
            store(y, yColumn, r0, sumLanes(acc0, lanes), bias);
            if (r1 != r0) {
                store(y, yColumn, r1, sumLanes(acc1, lanes), bias);
            }
        }
    }

    /**
     * The {@linkplain Int8Matrix#tiled() tiled} layout: for each tile, passes of {@value #PASS} vectors of rows
     * (one pass of the whole 64 at 512 bits); each input of a block is broadcast once and multiplies one vector of
     * rows per accumulator, and each block's sums are scaled by one vector of the rows' scales. The stores are whole
     * vectors of rows. At 512 bits the range's tiles go in threes, one from each third ({@link #tileTriple}); the one or
     * two left over go alone. Rows outside whole tiles (a range a caller cut mid-tile) take the scalar formula.
     */
    private static void matvecF32Tiled(Int8Matrix w, int rowFrom, int rowTo, float[] x, float[] y, int yColumn,
                                       float[] bias) {
        int tile = Int8Matrix.TILE_ROWS;
        int first = Math.min(rowTo, (rowFrom + tile - 1) / tile * tile);
        int last = Math.max(first, rowTo / tile * tile);
        ScalarInt8Kernels.matvecRows(w, rowFrom, first, x, y, yColumn, bias);
        ScalarInt8Kernels.matvecRows(w, last, rowTo, x, y, yColumn, bias);
        int tiles = (last - first) / tile;
        int triples = PASS * L == tile ? tiles / 3 : 0;
        for (int i = 0; i < triples; i++) {
            int t0 = first + i * tile;
            tileTriple(w, t0, t0 + triples * tile, t0 + 2 * triples * tile, x, y, yColumn, bias);
        }
        for (int t0 = first + 3 * triples * tile; t0 < last; t0 += tile) {
            for (int p = 0; p < tile; p += PASS * L) {
                tilePass(w, t0, p, x, y, yColumn, bias);
            }
        }
    }

    /** Rows {@code [t0 + p, t0 + p + PASS·L)} of the tile at {@code t0}. */
    private static void tilePass(Int8Matrix w, int t0, int p, float[] x, float[] y, int yColumn, float[] bias) {
        int tile = Int8Matrix.TILE_ROWS;
        MemorySegment data = w.weights();
        float[] scales = w.scales();
        int cols = w.cols();
        int blocksPerGroup = w.groupSize() / BLOCK;
        long tileBase = (long) t0 * cols;
        int s = t0 * w.groups() + p;
        int left = blocksPerGroup;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int k0 = 0; k0 < cols; k0 += BLOCK) {
            FloatVector block0 = FloatVector.zero(F), block1 = block0, block2 = block0, block3 = block0;
            long o = tileBase + (long) k0 * tile + p;
            for (int k = 0; k < BLOCK; k++, o += tile) {
                FloatVector xk = FloatVector.broadcast(F, x[k0 + k]);
                if (SPLIT) { // 128 bits: 8 bytes widen to two vectors
                    ByteVector low = ByteVector.fromMemorySegment(WEIGHTS, data, o, LE);
                    ByteVector high = ByteVector.fromMemorySegment(WEIGHTS, data, o + 2 * L, LE);
                    block0 = ((FloatVector) low.convertShape(VectorOperators.B2F, F, 0)).fma(xk, block0);
                    block1 = ((FloatVector) low.convertShape(VectorOperators.B2F, F, 1)).fma(xk, block1);
                    block2 = ((FloatVector) high.convertShape(VectorOperators.B2F, F, 0)).fma(xk, block2);
                    block3 = ((FloatVector) high.convertShape(VectorOperators.B2F, F, 1)).fma(xk, block3);
                } else {
                    block0 = widen(data, o).fma(xk, block0);
                    block1 = widen(data, o + L).fma(xk, block1);
                    block2 = widen(data, o + 2 * L).fma(xk, block2);
                    block3 = widen(data, o + 3 * L).fma(xk, block3);
                }
            }
            acc0 = block0.fma(FloatVector.fromArray(F, scales, s), acc0);
            acc1 = block1.fma(FloatVector.fromArray(F, scales, s + L), acc1);
            acc2 = block2.fma(FloatVector.fromArray(F, scales, s + 2 * L), acc2);
            acc3 = block3.fma(FloatVector.fromArray(F, scales, s + 3 * L), acc3);
            if (--left == 0) {
                s += tile;
                left = blocksPerGroup;
            }
        }
        int r = yColumn + t0 + p;
        acc0.intoArray(y, r);
        acc1.intoArray(y, r + L);
        acc2.intoArray(y, r + 2 * L);
        acc3.intoArray(y, r + 3 * L);
        addBias(y, r, PASS * L, bias);
    }

    /**
     * {@link #tilePass} of three whole tiles at once (512 bits; 25 of the 32 vector registers): three streams from
     * memory. On an AVX-512 Xeon (4864 × 896 from DRAM, 2 threads, alternating): 17.8–18.5 GB/s, against 15.4–16.6
     * for two tiles at once and 11.9–12.2 one at a time, which leaves the core waiting on one stream's misses while it
     * converts. Each row's sum is the same FMAs in the same order.
     */
    private static void tileTriple(Int8Matrix w, int t0, int t1, int t2, float[] x, float[] y, int yColumn,
                                   float[] bias) {
        int tile = Int8Matrix.TILE_ROWS;
        MemorySegment data = w.weights();
        float[] scales = w.scales();
        int cols = w.cols();
        int blocksPerGroup = w.groupSize() / BLOCK;
        long d1 = (long) (t1 - t0) * cols, d2 = (long) (t2 - t0) * cols;
        int s = t0 * w.groups(), s1 = t1 * w.groups(), s2 = t2 * w.groups();
        int left = blocksPerGroup;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        FloatVector acc4 = acc0, acc5 = acc0, acc6 = acc0, acc7 = acc0;
        FloatVector acc8 = acc0, acc9 = acc0, acc10 = acc0, acc11 = acc0;
        for (int k0 = 0; k0 < cols; k0 += BLOCK) {
            FloatVector block0 = FloatVector.zero(F), block1 = block0, block2 = block0, block3 = block0;
            FloatVector block4 = block0, block5 = block0, block6 = block0, block7 = block0;
            FloatVector block8 = block0, block9 = block0, block10 = block0, block11 = block0;
            long o = (long) t0 * cols + (long) k0 * tile;
            for (int k = 0; k < BLOCK; k++, o += tile) {
                FloatVector xk = FloatVector.broadcast(F, x[k0 + k]);
                block0 = widen(data, o).fma(xk, block0);
                block1 = widen(data, o + L).fma(xk, block1);
                block2 = widen(data, o + 2 * L).fma(xk, block2);
                block3 = widen(data, o + 3 * L).fma(xk, block3);
                block4 = widen(data, o + d1).fma(xk, block4);
                block5 = widen(data, o + d1 + L).fma(xk, block5);
                block6 = widen(data, o + d1 + 2 * L).fma(xk, block6);
                block7 = widen(data, o + d1 + 3 * L).fma(xk, block7);
                block8 = widen(data, o + d2).fma(xk, block8);
                block9 = widen(data, o + d2 + L).fma(xk, block9);
                block10 = widen(data, o + d2 + 2 * L).fma(xk, block10);
                block11 = widen(data, o + d2 + 3 * L).fma(xk, block11);
            }
            acc0 = block0.fma(FloatVector.fromArray(F, scales, s), acc0);
            acc1 = block1.fma(FloatVector.fromArray(F, scales, s + L), acc1);
            acc2 = block2.fma(FloatVector.fromArray(F, scales, s + 2 * L), acc2);
            acc3 = block3.fma(FloatVector.fromArray(F, scales, s + 3 * L), acc3);
            acc4 = block4.fma(FloatVector.fromArray(F, scales, s1), acc4);
            acc5 = block5.fma(FloatVector.fromArray(F, scales, s1 + L), acc5);
            acc6 = block6.fma(FloatVector.fromArray(F, scales, s1 + 2 * L), acc6);
            acc7 = block7.fma(FloatVector.fromArray(F, scales, s1 + 3 * L), acc7);
            acc8 = block8.fma(FloatVector.fromArray(F, scales, s2), acc8);
            acc9 = block9.fma(FloatVector.fromArray(F, scales, s2 + L), acc9);
            acc10 = block10.fma(FloatVector.fromArray(F, scales, s2 + 2 * L), acc10);
            acc11 = block11.fma(FloatVector.fromArray(F, scales, s2 + 3 * L), acc11);
            if (--left == 0) {
                s += tile;
                s1 += tile;
                s2 += tile;
                left = blocksPerGroup;
            }
        }
        int r = yColumn + t0, r1 = yColumn + t1, r2 = yColumn + t2;
        // Stored, then the bias added: this method reaches C2's node limit, and a vector handed to a call it did not
        // inline is boxed.
        acc0.intoArray(y, r);
        acc1.intoArray(y, r + L);
        acc2.intoArray(y, r + 2 * L);
        acc3.intoArray(y, r + 3 * L);
        acc4.intoArray(y, r1);
        acc5.intoArray(y, r1 + L);
        acc6.intoArray(y, r1 + 2 * L);
        acc7.intoArray(y, r1 + 3 * L);
        acc8.intoArray(y, r2);
        acc9.intoArray(y, r2 + L);
        acc10.intoArray(y, r2 + 2 * L);
        acc11.intoArray(y, r2 + 3 * L);
        addBias(y, r, PASS * L, bias);
        addBias(y, r1, PASS * L, bias);
        addBias(y, r2, PASS * L, bias);
    }

    /** Rows of a prefill panel: two vectors. */
    static final int PANEL_ROWS = 2 * L;
    /** Inputs of a prefill panel: 256 × 32 rows × 4 bytes is 32 KB at 512 bits, which stays in L1/L2 while tokens sweep it. */
    static final int PANEL_COLS = 256;
    /** Tokens per micro-kernel call: 16 accumulators at 512 bits, 8 below (16 vector registers there). */
    static final int PANEL_TOKENS = F.vectorBitSize() >= 512 ? 8 : 4;
    private static final ThreadLocal<float[]> PANEL = ThreadLocal.withInitial(() -> new float[PANEL_COLS * PANEL_ROWS]);

    /**
     * Prefill and batches of a tiled matrix, as an outer product: a panel of {@link #PANEL_ROWS} rows ×
     * {@link #PANEL_COLS} inputs is dequantized once into F32, input-major as the tile stores it (so no transpose),
     * then each group of {@link #PANEL_TOKENS} tokens sweeps it: per input, two vectors of rows times one broadcast
     * input per token. Each (row, token) is one lane summed in input order, panel by panel, whatever the number of
     * tokens: batch invariant. Ranges not on whole tiles are left to the backend (false).
     */
    @Override
    public boolean matmul(Int8Matrix w, int rowFrom, int rowTo, float[] x, int tokens, float[] y, int yStride,
                          int yColumn, float[] bias) {
        int tile = Int8Matrix.TILE_ROWS;
        if (!w.tiled() || rowFrom % tile != 0 || rowTo % tile != 0) {
            return false;
        }
        for (int t = 0; t < tokens; t++) {
            for (int r = rowFrom; r < rowTo; r++) {
                y[t * yStride + yColumn + r] = bias == null ? 0f : bias[yColumn + r];
            }
        }
        float[] panel = PANEL.get();
        MemorySegment data = w.weights();
        float[] scales = w.scales();
        int cols = w.cols();
        int groups = w.groups();
        int group = w.groupSize();
        if (tokens <= PANEL_TOKENS) { // one sweep, converting as it goes: rows outer, so memory is read in order
            for (int r0 = rowFrom; r0 < rowTo; r0 += PANEL_ROWS) {
                int t0 = r0 - r0 % tile;
                int p = r0 - t0;
                for (int k0 = 0; k0 < cols; k0 += PANEL_COLS) {
                    panelProduct(data, (long) t0 * cols + (long) k0 * tile + p, scales, t0 * groups + p, k0, group,
                            panel, Math.min(PANEL_COLS, cols - k0), x, k0, cols, tokens, y, yColumn + r0, yStride);
                }
            }
            return true;
        }
        for (int k0 = 0; k0 < cols; k0 += PANEL_COLS) {
            int width = Math.min(PANEL_COLS, cols - k0);
            for (int r0 = rowFrom; r0 < rowTo; r0 += PANEL_ROWS) {
                int t0 = r0 - r0 % tile;
                int p = r0 - t0;
                long base = (long) t0 * cols + (long) k0 * tile + p;
                int scaleBase = t0 * groups + p;
                for (int k = 0; k < width; ) { // group by group: one pair of scale vectors each
                    int g = (k0 + k) / group;
                    int end = Math.min(width, (g + 1) * group - k0);
                    int s = scaleBase + g * tile;
                    FloatVector scale0 = FloatVector.fromArray(F, scales, s);
                    FloatVector scale1 = FloatVector.fromArray(F, scales, s + L);
                    for (; k < end; k++) {
                        long o = base + (long) k * tile;
                        if (SPLIT) {
                            ByteVector b = ByteVector.fromMemorySegment(WEIGHTS, data, o, LE);
                            ((FloatVector) b.convertShape(VectorOperators.B2F, F, 0)).mul(scale0).intoArray(panel, k * PANEL_ROWS);
                            ((FloatVector) b.convertShape(VectorOperators.B2F, F, 1)).mul(scale1).intoArray(panel, k * PANEL_ROWS + L);
                        } else {
                            widen(data, o).mul(scale0).intoArray(panel, k * PANEL_ROWS);
                            widen(data, o + L).mul(scale1).intoArray(panel, k * PANEL_ROWS + L);
                        }
                    }
                }
                for (int t = 0; t < tokens; t += PANEL_TOKENS) {
                    panelProduct(null, 0, scales, 0, k0, group, panel, width, x, t * cols + k0, cols,
                            Math.min(PANEL_TOKENS, tokens - t), y, t * yStride + yColumn + r0, yStride);
                }
            }
        }
        return true;
    }

    /**
     * {@code y[j · yStride + y0 + i] += Σ_k W[i, k] · x[x0 + j · cols + k]} for the panel's rows i and tokens j < n
     * (n ≤ {@link #PANEL_TOKENS}), W read from the F32 panel, or (direct non-null) converted from the tiled int8 at
     * {@code base} as it goes, with the same products in the same order, so the same bits; C2 compiles the loop once
     * per case (the test is loop-invariant). Missing tokens re-read the last one and are not stored. The accumulators
     * of tokens 4..7 exist only at 512 bits.
     */
    private static void panelProduct(MemorySegment direct, long base, float[] scales, int scaleBase, int k0, int group,
                                     float[] panel, int width, float[] x, int x0, int cols, int n, float[] y, int y0,
                                     int yStride) {
        int tile = Int8Matrix.TILE_ROWS;
        int x1 = x0 + Math.min(1, n - 1) * cols, x2 = x0 + Math.min(2, n - 1) * cols, x3 = x0 + Math.min(3, n - 1) * cols;
        int x4 = x0 + Math.min(4, n - 1) * cols, x5 = x0 + Math.min(5, n - 1) * cols;
        int x6 = x0 + Math.min(6, n - 1) * cols, x7 = x0 + Math.min(7, n - 1) * cols;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        FloatVector a40 = a00, a41 = a00, a50 = a00, a51 = a00, a60 = a00, a61 = a00, a70 = a00, a71 = a00;
        for (int k = 0; k < width; ) {
            int end = width;
            FloatVector scale0 = a00, scale1 = a00;
            if (direct != null) { // this group's part of the panel, and its scales
                int g = (k0 + k) / group;
                end = Math.min(width, (g + 1) * group - k0);
                scale0 = FloatVector.fromArray(F, scales, scaleBase + g * tile);
                scale1 = FloatVector.fromArray(F, scales, scaleBase + g * tile + L);
            }
            for (; k < end; k++) {
                FloatVector w0;
                FloatVector w1;
                if (direct == null) {
                    w0 = FloatVector.fromArray(F, panel, k * PANEL_ROWS);
                    w1 = FloatVector.fromArray(F, panel, k * PANEL_ROWS + L);
                } else if (SPLIT) {
                    ByteVector b = ByteVector.fromMemorySegment(WEIGHTS, direct, base + (long) k * tile, LE);
                    w0 = ((FloatVector) b.convertShape(VectorOperators.B2F, F, 0)).mul(scale0);
                    w1 = ((FloatVector) b.convertShape(VectorOperators.B2F, F, 1)).mul(scale1);
                } else {
                    w0 = widen(direct, base + (long) k * tile).mul(scale0);
                    w1 = widen(direct, base + (long) k * tile + L).mul(scale1);
                }
                FloatVector v = FloatVector.broadcast(F, x[x0 + k]);
                a00 = w0.fma(v, a00);
                a01 = w1.fma(v, a01);
                v = FloatVector.broadcast(F, x[x1 + k]);
                a10 = w0.fma(v, a10);
                a11 = w1.fma(v, a11);
                v = FloatVector.broadcast(F, x[x2 + k]);
                a20 = w0.fma(v, a20);
                a21 = w1.fma(v, a21);
                v = FloatVector.broadcast(F, x[x3 + k]);
                a30 = w0.fma(v, a30);
                a31 = w1.fma(v, a31);
                if (PANEL_TOKENS == 8) {
                    v = FloatVector.broadcast(F, x[x4 + k]);
                    a40 = w0.fma(v, a40);
                    a41 = w1.fma(v, a41);
                    v = FloatVector.broadcast(F, x[x5 + k]);
                    a50 = w0.fma(v, a50);
                    a51 = w1.fma(v, a51);
                    v = FloatVector.broadcast(F, x[x6 + k]);
                    a60 = w0.fma(v, a60);
                    a61 = w1.fma(v, a61);
                    v = FloatVector.broadcast(F, x[x7 + k]);
                    a70 = w0.fma(v, a70);
                    a71 = w1.fma(v, a71);
                }
            }
        }
        // Written out, not called: C2 leaves a call in a method this large un-inlined, boxing its vectors.
        FloatVector.fromArray(F, y, y0).add(a00).intoArray(y, y0);
        FloatVector.fromArray(F, y, y0 + L).add(a01).intoArray(y, y0 + L);
        if (n > 1) {
            int y1 = y0 + yStride;
            FloatVector.fromArray(F, y, y1).add(a10).intoArray(y, y1);
            FloatVector.fromArray(F, y, y1 + L).add(a11).intoArray(y, y1 + L);
        }
        if (n > 2) {
            int y2 = y0 + 2 * yStride;
            FloatVector.fromArray(F, y, y2).add(a20).intoArray(y, y2);
            FloatVector.fromArray(F, y, y2 + L).add(a21).intoArray(y, y2 + L);
        }
        if (n > 3) {
            int y3 = y0 + 3 * yStride;
            FloatVector.fromArray(F, y, y3).add(a30).intoArray(y, y3);
            FloatVector.fromArray(F, y, y3 + L).add(a31).intoArray(y, y3 + L);
        }
        if (PANEL_TOKENS == 8) {
            if (n > 4) {
                int y4 = y0 + 4 * yStride;
                FloatVector.fromArray(F, y, y4).add(a40).intoArray(y, y4);
                FloatVector.fromArray(F, y, y4 + L).add(a41).intoArray(y, y4 + L);
            }
            if (n > 5) {
                int y5 = y0 + 5 * yStride;
                FloatVector.fromArray(F, y, y5).add(a50).intoArray(y, y5);
                FloatVector.fromArray(F, y, y5 + L).add(a51).intoArray(y, y5 + L);
            }
            if (n > 6) {
                int y6 = y0 + 6 * yStride;
                FloatVector.fromArray(F, y, y6).add(a60).intoArray(y, y6);
                FloatVector.fromArray(F, y, y6 + L).add(a61).intoArray(y, y6 + L);
            }
            if (n > 7) {
                int y7 = y0 + 7 * yStride;
                FloatVector.fromArray(F, y, y7).add(a70).intoArray(y, y7);
                FloatVector.fromArray(F, y, y7 + L).add(a71).intoArray(y, y7 + L);
            }
        }
    }

    /** Vectors of rows per pass over a tile: four accumulators and their four block sums. */
    static final int PASS = 4;

    /** L int8 weights at {@code offset} as F32 (not at 128 bits, see {@link #SPLIT}). */
    private static FloatVector widen(MemorySegment data, long offset) {
        return (FloatVector) ByteVector.fromMemorySegment(WEIGHTS, data, offset, LE).convertShape(VectorOperators.B2F, F, 0);
    }

    /** {@code y[i .. i + n) += bias[i ..]} once the sums are stored there; nothing without a bias. */
    private static void addBias(float[] y, int i, int n, float[] bias) {
        if (bias != null) {
            for (int k = i; k < i + n; k++) {
                y[k] += bias[k];
            }
        }
    }

    private static void store(float[] y, int yColumn, int r, float sum, float[] bias) {
        y[yColumn + r] = bias == null ? sum : sum + bias[yColumn + r];
    }

    /** {@code acc} plus the products of the {@link #STEP} weights at {@code offset} with {@code x[k…]}. */
    private static FloatVector fmaWeights(MemorySegment data, long offset, float[] x, int k, FloatVector acc) {
        ByteVector b = ByteVector.fromMemorySegment(WEIGHTS, data, offset, LE);
        acc = ((FloatVector) b.convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, k), acc);
        if (SPLIT) {
            acc = ((FloatVector) b.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, k + L), acc);
        }
        return acc;
    }

    /** Any group size: whole vectors of each group, then its scalar tail. */
    private static void matvecF32AnyGroup(Int8Matrix w, int rowFrom, int rowTo, float[] x, float[] y, int yColumn,
                                          float[] bias) {
        MemorySegment data = w.weights();
        float[] lanes = LANES.get();
        float[] scales = w.scales();
        int cols = w.cols();
        int group = w.groupSize();
        int groups = w.groups();
        int vectorized = group - group % STEP;
        for (int r = rowFrom; r < rowTo; r++) {
            long base = (long) r * cols;
            FloatVector acc = FloatVector.zero(F);
            float tail = 0f;
            for (int g = 0; g < groups; g++) {
                int k0 = g * group;
                FloatVector part = FloatVector.zero(F);
                for (int k = k0; k < k0 + vectorized; k += STEP) {
                    ByteVector b = ByteVector.fromMemorySegment(WEIGHTS, data, base + k, LE);
                    part = ((FloatVector) b.convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, k), part);
                    if (SPLIT) {
                        part = ((FloatVector) b.convertShape(VectorOperators.B2F, F, 1))
                                .fma(FloatVector.fromArray(F, x, k + L), part);
                    }
                }
                float scale = scales[r * groups + g];
                acc = part.fma(FloatVector.broadcast(F, scale), acc);
                float groupTail = 0f;
                for (int k = k0 + vectorized; k < k0 + group; k++) {
                    groupTail += data.get(ValueLayout.JAVA_BYTE, base + k) * x[k];
                }
                tail += groupTail * scale;
            }
            store(y, yColumn, r, sumLanes(acc, lanes) + tail, bias);
        }
    }

    /**
     * The scalar formula lane by lane (IEEE division, the same clamp and rounding, Java's float-to-byte cast), so the
     * same bits. Below 256 bits L bytes are no species: two vectors' bytes are joined into {@link #WEIGHTS}.
     */
    @Override
    public void quantizeRow(float[] row, int group, DType scaleType, float[] scales, int scaleOffset, byte[] out) {
        if (group % STEP != 0) {
            ScalarInt8Kernels.quantize(row, group, scaleType, scales, scaleOffset, out);
            return;
        }
        for (int k0 = 0, g = 0; k0 < row.length; k0 += group, g++) {
            IntVector max = IntVector.zero(I);
            for (int k = k0; k < k0 + group; k += L) {
                max = max.max(FloatVector.fromArray(F, row, k).reinterpretAsInts().and(0x7FFF_FFFF));
            }
            float scale = Int8Quantizer.scaleOf(max.reduceLanes(VectorOperators.MAX), scaleType);
            scales[scaleOffset + g] = scale;
            for (int k = k0; k < k0 + group; k += STEP) {
                ByteVector q = toInt8(FloatVector.fromArray(F, row, k), scale, 0);
                if (SPLIT) {
                    q = q.or(toInt8(FloatVector.fromArray(F, row, k + L), scale, -1));
                }
                q.intoArray(out, k);
            }
        }
    }

    /**
     * {@code clamp(rint(v / scale), -127, 127)} as bytes in {@link #WEIGHTS}, at {@code part} (the rest zero). Adding
     * 1.5·2²³ leaves the rounded integer in the low mantissa bits, two's complement, so its low byte is the result:
     * a truncating I2B, with no subtraction and no float-to-int conversion.
     */
    private static ByteVector toInt8(FloatVector v, float scale, int part) {
        FloatVector shifted = v.div(scale).min(127f).max(-127f).add(Int8Quantizer.ROUNDING);
        return (ByteVector) shifted.reinterpretAsInts().convertShape(VectorOperators.I2B, WEIGHTS, part);
    }

    /** BF16 widened in registers: 0.13–0.25 ns a weight, against 0.7 for the scalar loop C2 makes of it (warm, 512 bits). */
    @Override
    public void readRow(Tensor source, int r, float[] out, short[] halves) {
        if (source.dtype() != DType.BF16) {
            Int8Quantizer.readRow(source, r, out, halves);
            return;
        }
        MemorySegment data = source.data();
        int cols = source.cols();
        long base = 2L * r * cols;
        int k = 0;
        for (; k + L <= cols; k += L) {
            // bf16 is the upper half of an f32: widen each lane to 32 bits and shift it there
            ((IntVector) ShortVector.fromMemorySegment(WIDENED, data, base + 2L * k, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, k);
        }
        for (; k < cols; k++) {
            out[k] = Float.intBitsToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, base + 2L * k) << 16);
        }
    }

    @Override
    public void dequantize(Int8Matrix w, int row, int k0, int width, float[] out, int offset) {
        if (w.tiled()) { // a row is strided there; matmul() serves tiled prefill, this only a range it declined
            w.dequantize(row, k0, width, out, offset);
            return;
        }
        MemorySegment data = w.weights();
        float[] scales = w.scales();
        int group = w.groupSize();
        long base = (long) row * w.cols();
        int scaleBase = row * w.groups();
        for (int k = k0, end = k0 + width; k < end; ) {
            int g = k / group;
            int groupEnd = Math.min(end, (g + 1) * group);
            FloatVector scale = FloatVector.broadcast(F, scales[scaleBase + g]);
            for (; k + STEP <= groupEnd; k += STEP) {
                ByteVector b = ByteVector.fromMemorySegment(WEIGHTS, data, base + k, LE);
                ((FloatVector) b.convertShape(VectorOperators.B2F, F, 0)).mul(scale).intoArray(out, offset + k - k0);
                if (SPLIT) {
                    ((FloatVector) b.convertShape(VectorOperators.B2F, F, 1)).mul(scale).intoArray(out, offset + k - k0 + L);
                }
            }
            float s = scales[scaleBase + g];
            for (; k < groupEnd; k++) {
                out[offset + k - k0] = data.get(ValueLayout.JAVA_BYTE, base + k) * s;
            }
        }
    }

    @Override
    public void matvecInt8(Int8Matrix w, int rowFrom, int rowTo, Int8Input x, float[] y, int yColumn, float[] bias) {
        float[] lanes = LANES.get();
        MemorySegment data = w.weights();
        float[] scales = w.scales();
        short[] q = x.wideValues();
        float[] xScales = x.scales();
        int cols = w.cols();
        int groups = w.groups();
        int blocksPerGroup = w.groupSize() / BLOCK;
        int half = (rowTo - rowFrom + 1) / 2;
        for (int r0 = rowFrom; r0 < rowFrom + half; r0++) { // rows in pairs, see partner()
            int r1 = partner(r0, half, rowTo);
            long base0 = (long) r0 * cols;
            long base1 = (long) r1 * cols;
            int scale0 = r0 * groups;
            int scale1 = r1 * groups;
            int left = blocksPerGroup;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            for (int b = 0, k0 = 0; k0 < cols; b++, k0 += BLOCK) {
                acc0 = ((FloatVector) blockDot(data, base0 + k0, q, k0).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F, xScales[b] * scales[scale0]), acc0);
                acc1 = ((FloatVector) blockDot(data, base1 + k0, q, k0).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.broadcast(F, xScales[b] * scales[scale1]), acc1);
                if (--left == 0) {
                    scale0++;
                    scale1++;
                    left = blocksPerGroup;
                }
            }
            store(y, yColumn, r0, sumLanes(acc0, lanes), bias);
            if (r1 != r0) {
                store(y, yColumn, r1, sumLanes(acc1, lanes), bias);
            }
        }
    }

    /** The exact dot product of the {@value #BLOCK} weights at {@code offset} with {@code q[k…]}, in L 32-bit lanes. */
    private static IntVector blockDot(MemorySegment data, long offset, short[] q, int k) {
        if (SL < BLOCK) {
            IntVector dot = IntVector.zero(I);
            for (int j = 0; j < BLOCK; j += 2 * SL) {
                dot = dot.add(pairSums(product(data, offset + j, q, k + j).add(product(data, offset + j + SL, q, k + j + SL))));
            }
            return dot;
        }
        return pairSums(product(data, offset, q, k));
    }

    /**
     * The lanes added first to last, the same bits in every JIT tier (as {@code VectorKernels.sumLanes}), through
     * memory: {@code lane(i)} at 512 bits compiles to a jump table or an extract chain.
     */
    private static float sumLanes(FloatVector v, float[] lanes) {
        v.intoArray(lanes, 0);
        float sum = lanes[0];
        for (int i = 1; i < L; i++) {
            sum += lanes[i];
        }
        return sum;
    }

    /** {@code 2L} int8 weights times their 16-bit activations, each product exact in 16 bits. */
    private static ShortVector product(MemorySegment data, long offset, short[] q, int k) {
        return ((ShortVector) ByteVector.fromMemorySegment(HALF, data, offset, LE).convertShape(VectorOperators.B2S, S, 0))
                .mul(ShortVector.fromArray(S, q, k));
    }

    /** The sums of adjacent 16-bit lanes, as L 32-bit lanes: the high half by an arithmetic shift, the low by two. */
    private static IntVector pairSums(ShortVector p) {
        IntVector pairs = p.reinterpretAsInts();
        return pairs.lanewise(VectorOperators.ASHR, 16)
                .add(pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
    }
}
