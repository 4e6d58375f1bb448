package dev.qwen2j.tensor;

import dev.qwen2j.core.safetensors.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.nio.ByteOrder;

/**
 * Vector API kernels. The species is fixed once per class, in a static final field, so the JIT folds it: this
 * class runs at the platform's preferred width, and {@link SpeciesCopies} defines hidden copies of it for the
 * other widths (this class must therefore keep no nested classes).
 *
 * <p>Decode ({@code tokens == 1}) is a stream over the weights: one row at a time, front to back, so each
 * thread's rows form one sequential stream that the hardware prefetcher follows (four interleaved rows
 * sharing loads of x measured slower from DRAM on the reference machine); four accumulators per row
 * (two for F32) keep FMA latency off the critical path.
 * bf16 is widened in registers: each 16-bit lane is cast to 32 bits and shifted left by 16, which drops
 * whatever the cast put in the upper half and leaves exactly the f32 whose upper half the bf16 is.
 * Prefill and batches run a register-blocked micro-kernel of 2 rows × 8 tokens (4 below 512 bits), on BF16 rows
 * read directly for a few tokens, or on a block of rows converted to F32 once for many, so each weight element
 * loaded from memory serves every token of the block.
 *
 * <p>Loaded only after {@code jdk.incubator.vector} was found in the boot layer; see {@link KernelChoice}.
 */
final class VectorKernels implements Kernels {

    static final VectorSpecies<Float> F = SpeciesCopies.floatSpecies(MethodHandles.lookup());
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Shorts with as many lanes as F: half the bits. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /**
     * Prefill blocking: rows converted to F32 at once (32 × 1024 floats = 128 KB, held in L2) and the widest
     * input tile (4 tokens × 1024 floats = 16 KB of x, held in L1). Wider tiles mean fewer lane reductions.
     */
    static final int BLOCK_ROWS = 32;
    static final int MAX_TILE_COLS = 1024;
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[BLOCK_ROWS * MAX_TILE_COLS]);
    /**
     * Tokens per micro-kernel call: 8 where 32 vector registers hold the 16 accumulators (AVX-512), else 4 (16
     * registers). 8 × 2 measured 1.2–1.7× the old 4 × 2 on one core of an AVX-512 Zen 5 at batch 8.
     */
    static final int MICRO_TOKENS = F.vectorBitSize() >= 512 ? 8 : 4;
    /**
     * Up to this many tokens BF16 weights are read directly: at 8 tokens, 1.3–1.8× converting a block to F32 first
     * (same machine, weights in L3 or DRAM); at 128 converting first is 1.4× faster.
     */
    static final int DIRECT_TOKENS = 16;
    /** Per page of an attention run: the element where its value rows would start if slot 0 of the run were page 0's. */
    private static final ThreadLocal<long[]> VALUE_PAGES = ThreadLocal.withInitial(() -> new long[CHUNK_PAGES]);
    /** Where kernels spill a vector to add its lanes ({@link #sumLanes}), or micro() its sums: one per thread. */
    private static final ThreadLocal<float[]> LANES =
            ThreadLocal.withInitial(() -> new float[Math.max(L, 2 * MICRO_TOKENS)]);

    @Override
    public String name() {
        return "vector" + F.vectorBitSize();
    }

    @Override
    public int vectorBits() {
        return F.vectorBitSize();
    }

    // ---------------------------------------------------------------- loads

    static FloatVector bf16(MemorySegment data, long byteOffset) {
        return ((IntVector) ShortVector.fromMemorySegment(S, data, byteOffset, LE).castShape(I, 0))
                .lanewise(VectorOperators.LSHL, 16)
                .reinterpretAsFloats();
    }

    static FloatVector f32(MemorySegment data, long byteOffset) {
        return FloatVector.fromMemorySegment(F, data, byteOffset, LE);
    }

    // ---------------------------------------------------------------- linear maps

    @Override
    public void matmul(Tensor w, int rowFrom, int rowTo, float[] x, int tokens,
                       float[] y, int yStride, int yColumn, float[] bias) {
        if (tokens == 1 && w.dtype() == DType.BF16) {
            matvecBf16(w, rowFrom, rowTo, x, y, yColumn, bias);
        } else if (tokens == 1 && w.dtype() == DType.F32) {
            matvecF32(w, rowFrom, rowTo, x, y, yColumn, bias);
        } else {
            matmulTiled(w, null, null, rowFrom, rowTo, x, tokens, y, yStride, yColumn, bias);
        }
    }

    @Override
    public void matmulBlocked(Tensor w, int rowFrom, int rowTo, float[] x, int tokens,
                              float[] y, int yStride, int yColumn, float[] bias) {
        matmulTiled(w, null, null, rowFrom, rowTo, x, tokens, y, yStride, yColumn, bias);
    }

    @Override
    public void matmulPacked(PackedMatrix w, PackedKernels<?> format, int rowFrom, int rowTo, float[] x, int tokens,
                             float[] y, int yStride, int yColumn, float[] bias) {
        matmulTiled(null, w, format, rowFrom, rowTo, x, tokens, y, yStride, yColumn, bias);
    }

    /**
     * Rows in pairs {@code (r, r + half)} of the range: two streams from memory. On an AVX-512 Xeon (4864 × 896 from
     * DRAM, 2 threads) one row at a time read 11.7–12.4 GB/s, two far-apart rows 16.5–17.5 (at 256 bits 10.3–11.5
     * against 12.7–16.7): with one stream the core waits on its misses. Each row's sum is the same FMAs in the same
     * order either way.
     */
    private static void matvecBf16(Tensor w, int rowFrom, int rowTo, float[] x, float[] y, int yColumn, float[] bias) {
        int half = (rowTo - rowFrom) / 2;
        for (int r = rowFrom; r < rowFrom + half; r++) {
            bf16RowPair(w, r, r + half, x, y, yColumn, bias);
        }
        if ((rowTo - rowFrom) % 2 != 0) {
            bf16RowPair(w, rowTo - 1, rowTo - 1, x, y, yColumn, bias);
        }
    }

    /** Rows {@code r0} and {@code r1} (the same row when {@code r0 == r1}) of a BF16 matrix times {@code x}. */
    private static void bf16RowPair(Tensor w, int r0, int r1, float[] x, float[] y, int yColumn, float[] bias) {
        MemorySegment data = w.data();
        float[] lanes = LANES.get();
        int cols = w.cols();
        int upper = cols - cols % L;
        long b0 = r0 * w.rowBytes(), b1 = r1 * w.rowBytes();
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        FloatVector acc4 = acc0, acc5 = acc0, acc6 = acc0, acc7 = acc0;
        int k = 0;
        for (; k + 4 * L <= upper; k += 4 * L) {
            FloatVector x0 = FloatVector.fromArray(F, x, k), x1 = FloatVector.fromArray(F, x, k + L);
            FloatVector x2 = FloatVector.fromArray(F, x, k + 2 * L), x3 = FloatVector.fromArray(F, x, k + 3 * L);
            acc0 = bf16(data, b0 + 2L * k).fma(x0, acc0);
            acc1 = bf16(data, b0 + 2L * (k + L)).fma(x1, acc1);
            acc2 = bf16(data, b0 + 2L * (k + 2 * L)).fma(x2, acc2);
            acc3 = bf16(data, b0 + 2L * (k + 3 * L)).fma(x3, acc3);
            acc4 = bf16(data, b1 + 2L * k).fma(x0, acc4);
            acc5 = bf16(data, b1 + 2L * (k + L)).fma(x1, acc5);
            acc6 = bf16(data, b1 + 2L * (k + 2 * L)).fma(x2, acc6);
            acc7 = bf16(data, b1 + 2L * (k + 3 * L)).fma(x3, acc7);
        }
        for (; k < upper; k += L) {
            FloatVector xk = FloatVector.fromArray(F, x, k);
            acc0 = bf16(data, b0 + 2L * k).fma(xk, acc0);
            acc4 = bf16(data, b1 + 2L * k).fma(xk, acc4);
        }
        // Both rows' lanes in one butterfly (see PARTNER1): row r0's sum ends in lane 0, row r1's in lane L/2. Written
        // here, not called: this method sits near C2's node limit, and a vector handed to a call it did not inline is
        // boxed. A scalar chain of lane adds (addLanes) cost 6% of bf16 decode: 2 × 15 dependent adds per row pair.
        FloatVector a = acc0.add(acc1).add(acc2.add(acc3));
        FloatVector b = acc4.add(acc5).add(acc6.add(acc7));
        FloatVector p = a.add(a.rearrange(PARTNER1)).blend(b.add(b.rearrange(PARTNER1)), UPPER1);
        p = p.add(p.rearrange(PARTNER2)); // L ≥ 4: vectors are 128 bits or wider
        if (L >= 8) {
            p = p.add(p.rearrange(PARTNER3));
        }
        if (L >= 16) {
            p = p.add(p.rearrange(PARTNER4));
        }
        p.intoArray(lanes, 0);
        float s0 = lanes[0];
        float s1 = lanes[L / 2];
        for (k = upper; k < cols; k++) {
            s0 += Numbers.bf16ToFloat(data.get(Numbers.SHORT, b0 + 2L * k)) * x[k];
            s1 += Numbers.bf16ToFloat(data.get(Numbers.SHORT, b1 + 2L * k)) * x[k];
        }
        store(y, yColumn, r0, s0, bias);
        store(y, yColumn, r1, s1, bias);
    }

    private static void matvecF32(Tensor w, int rowFrom, int rowTo, float[] x, float[] y, int yColumn, float[] bias) {
        MemorySegment data = w.data();
        float[] lanes = LANES.get();
        int cols = w.cols();
        int upper = cols - cols % L;
        long rowBytes = w.rowBytes();
        int r = rowFrom;
        for (; r < rowTo; r++) {
            long b0 = r * rowBytes;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            int k = 0;
            for (; k + 2 * L <= upper; k += 2 * L) {
                acc0 = f32(data, b0 + 4L * k).fma(FloatVector.fromArray(F, x, k), acc0);
                acc1 = f32(data, b0 + 4L * (k + L)).fma(FloatVector.fromArray(F, x, k + L), acc1);
            }
            for (; k < upper; k += L) {
                acc0 = f32(data, b0 + 4L * k).fma(FloatVector.fromArray(F, x, k), acc0);
            }
            acc0.add(acc1).intoArray(lanes, 0);
            float s0 = addLanes(lanes);
            for (k = upper; k < cols; k++) {
                s0 += data.get(Numbers.FLOAT, b0 + 4L * k) * x[k];
            }
            store(y, yColumn, r, s0, bias);
        }
    }

    private static void store(float[] y, int yColumn, int r, float sum, float[] bias) {
        y[yColumn + r] = bias == null ? sum : sum + bias[yColumn + r];
    }

    /**
     * Prefill and batches. The input is cut into tiles of at most {@link #MAX_TILE_COLS} columns; partial sums of
     * the tiles accumulate in y. For each tile, blocks of {@link #BLOCK_ROWS} weight rows are swept by every group
     * of {@link #MICRO_TOKENS} tokens (their slice of x stays in L1), 2 rows per micro-kernel call. Up to
     * {@link #DIRECT_TOKENS} tokens, BF16 rows are read straight from the weights; beyond, or for other types, a
     * block is first converted to F32 once (it stays in L2) so that each conversion serves every token. Exactly
     * one of {@code w} and {@code packed} is non-null: a packed matrix dequantizes its block itself.
     * Every (row, token) is summed in the same order whatever the number of tokens or the path (one accumulator
     * over the tile, its lanes added by the butterfly of micro(), then the tile's scalar tail): the batch invariance of
     * {@link Kernels#matmulBlocked}.
     */
    private static void matmulTiled(Tensor w, PackedMatrix packed, PackedKernels<?> format, int rowFrom, int rowTo, float[] x, int tokens,
                                    float[] y, int yStride, int yColumn, float[] bias) {
        int cols = w != null ? w.cols() : packed.cols();
        for (int t = 0; t < tokens; t++) {
            int row = t * yStride + yColumn;
            for (int r = rowFrom; r < rowTo; r++) {
                y[row + r] = bias == null ? 0f : bias[yColumn + r];
            }
        }
        float[] tile = TILE.get();
        float[] lanes = LANES.get();
        MemorySegment direct = w != null && w.dtype() == DType.BF16 && tokens <= DIRECT_TOKENS ? w.data() : null;
        int tiles = (cols + MAX_TILE_COLS - 1) / MAX_TILE_COLS;
        int tileCols = Math.min(MAX_TILE_COLS, ((cols + tiles - 1) / tiles + L - 1) / L * L); // even tiles, whole vectors
        for (int k0 = 0; k0 < cols; k0 += tileCols) {
            int width = Math.min(tileCols, cols - k0);
            for (int r0 = rowFrom; r0 < rowTo; r0 += BLOCK_ROWS) {
                int height = Math.min(BLOCK_ROWS, rowTo - r0);
                if (direct == null && w != null) {
                    loadTile(w, r0, height, k0, width, tile);
                } else if (direct == null) {
                    for (int i = 0; i < height; i++) {
                        format.dequantize(packed, r0 + i, k0, width, tile, i * width);
                    }
                }
                // Row i pairs with row i + half: two ascending streams through the block. Adjacent pairs (i, i + 1)
                // read the block back and forth in row-sized steps, which the hardware prefetchers follow worse:
                // measured 1.3-1.8x slower from DRAM for 8 tokens (AVX-512 Zen 4, 2 threads).
                int half = (height + 1) / 2;
                for (int t = 0; t < tokens; t += MICRO_TOKENS) {
                    int n = Math.min(MICRO_TOKENS, tokens - t);
                    for (int i = 0; i < half; i++) {
                        int second = i + half < height ? i + half : i; // an odd block's middle row: computed twice, stored once
                        long element = (long) (r0 + i) * cols + k0;
                        micro(direct, 2 * element, 2 * (element + (long) (second - i) * cols), tile, i * width, second * width,
                                width, x, t * cols + k0, cols, n, y, t * yStride + yColumn + r0 + i, second - i, yStride, lanes);
                    }
                }
            }
        }
    }

    /** Rows {@code [r0, r0 + height)}, inputs {@code [k0, k0 + width)} of w as F32, row i at {@code tile[i·width]}. */
    private static void loadTile(Tensor w, int r0, int height, int k0, int width, float[] tile) {
        MemorySegment data = w.data();
        int upper = width - width % L;
        for (int i = 0; i < height; i++) {
            long element = (long) (r0 + i) * w.cols() + k0;
            int base = i * width;
            switch (w.dtype()) {
                case BF16 -> {
                    int k = 0;
                    for (; k < upper; k += L) {
                        bf16(data, 2 * (element + k)).intoArray(tile, base + k);
                    }
                    for (; k < width; k++) {
                        tile[base + k] = Numbers.bf16ToFloat(data.get(Numbers.SHORT, 2 * (element + k)));
                    }
                }
                case F32 -> {
                    int k = 0;
                    for (; k < upper; k += L) {
                        f32(data, 4 * (element + k)).intoArray(tile, base + k);
                    }
                    for (; k < width; k++) {
                        tile[base + k] = data.get(Numbers.FLOAT, 4 * (element + k));
                    }
                }
                case F16 -> { // no F16 lanes in the Vector API: the JIT vectorizes this conversion loop itself
                    for (int k = 0; k < width; k++) {
                        tile[base + k] = Float.float16ToFloat(data.get(Numbers.SHORT, 2 * (element + k)));
                    }
                }
                default -> throw new IllegalArgumentException(w.name() + ": unsupported weight type " + w.dtype());
            }
        }
    }

    /**
     * Tokens t..t+n-1 (n ≤ {@link #MICRO_TOKENS}) against two weight rows: 2 × {@link #MICRO_TOKENS} accumulators,
     * each weight and input vector loaded once. The rows come from the BF16 weights at byte offsets {@code w0, w1}
     * of {@code direct}, or (direct null) from the F32 tile at {@code t0, t1}; C2 compiles the loop once per case
     * (the test is loop-invariant). Missing tokens (j ≥ n) re-read the last one and are not stored. The second row's
     * outputs sit {@code rowGap} rows after the first's; a gap of 0 means there is no second row (it is computed as
     * a copy of the first and not stored). The accumulators of tokens 4..7 exist only at 512 bits (folded away below, where 16
     * vector registers would spill them).
     */
    private static void micro(MemorySegment direct, long w0, long w1, float[] tile, int t0, int t1, int width,
                              float[] x, int x0, int cols, int n, float[] y, int y0, int rowGap, int yStride, float[] lanes) {
        int x1 = x0 + Math.min(1, n - 1) * cols, x2 = x0 + Math.min(2, n - 1) * cols, x3 = x0 + Math.min(3, n - 1) * cols;
        int x4 = x0 + Math.min(4, n - 1) * cols, x5 = x0 + Math.min(5, n - 1) * cols;
        int x6 = x0 + Math.min(6, n - 1) * cols, x7 = x0 + Math.min(7, n - 1) * cols;
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a10 = FloatVector.zero(F), a11 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a30 = FloatVector.zero(F), a31 = FloatVector.zero(F);
        FloatVector a40 = FloatVector.zero(F), a41 = FloatVector.zero(F), a50 = FloatVector.zero(F), a51 = FloatVector.zero(F);
        FloatVector a60 = FloatVector.zero(F), a61 = FloatVector.zero(F), a70 = FloatVector.zero(F), a71 = FloatVector.zero(F);
        int upper = width - width % L;
        for (int k = 0; k < upper; k += L) {
            // bf16() written out: after a prefill-heavy profile C2 saw these sites as cold and refused to inline
            // bf16 ("already compiled into a medium method"), boxing every row vector: batches decoded 4-5x slower.
            FloatVector r0 = direct != null
                    ? ((IntVector) ShortVector.fromMemorySegment(S, direct, w0 + 2L * k, LE).castShape(I, 0))
                            .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    : FloatVector.fromArray(F, tile, t0 + k);
            FloatVector r1 = direct != null
                    ? ((IntVector) ShortVector.fromMemorySegment(S, direct, w1 + 2L * k, LE).castShape(I, 0))
                            .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    : FloatVector.fromArray(F, tile, t1 + k);
            FloatVector v = FloatVector.fromArray(F, x, x0 + k);
            a00 = r0.fma(v, a00);
            a01 = r1.fma(v, a01);
            v = FloatVector.fromArray(F, x, x1 + k);
            a10 = r0.fma(v, a10);
            a11 = r1.fma(v, a11);
            v = FloatVector.fromArray(F, x, x2 + k);
            a20 = r0.fma(v, a20);
            a21 = r1.fma(v, a21);
            v = FloatVector.fromArray(F, x, x3 + k);
            a30 = r0.fma(v, a30);
            a31 = r1.fma(v, a31);
            if (MICRO_TOKENS == 8) {
                v = FloatVector.fromArray(F, x, x4 + k);
                a40 = r0.fma(v, a40);
                a41 = r1.fma(v, a41);
                v = FloatVector.fromArray(F, x, x5 + k);
                a50 = r0.fma(v, a50);
                a51 = r1.fma(v, a51);
                v = FloatVector.fromArray(F, x, x6 + k);
                a60 = r0.fma(v, a60);
                a61 = r1.fma(v, a61);
                v = FloatVector.fromArray(F, x, x7 + k);
                a70 = r0.fma(v, a70);
                a71 = r1.fma(v, a71);
            }
        }
        // The lane sums of accumulator m = 2 × token + row land in lanes[LANE_OF[m]] (see PARTNER1). The levels
        // are written out, not called: C2 leaves a call in a method this large un-inlined, boxing its vectors.
        FloatVector p10 = a00.add(a00.rearrange(PARTNER1)).blend(a01.add(a01.rearrange(PARTNER1)), UPPER1);
        FloatVector p11 = a10.add(a10.rearrange(PARTNER1)).blend(a11.add(a11.rearrange(PARTNER1)), UPPER1);
        FloatVector p12 = a20.add(a20.rearrange(PARTNER1)).blend(a21.add(a21.rearrange(PARTNER1)), UPPER1);
        FloatVector p13 = a30.add(a30.rearrange(PARTNER1)).blend(a31.add(a31.rearrange(PARTNER1)), UPPER1);
        FloatVector p20 = p10.add(p10.rearrange(PARTNER2)).blend(p11.add(p11.rearrange(PARTNER2)), UPPER2);
        FloatVector p21 = p12.add(p12.rearrange(PARTNER2)).blend(p13.add(p13.rearrange(PARTNER2)), UPPER2);
        if (L == 16) {
            FloatVector p14 = a40.add(a40.rearrange(PARTNER1)).blend(a41.add(a41.rearrange(PARTNER1)), UPPER1);
            FloatVector p15 = a50.add(a50.rearrange(PARTNER1)).blend(a51.add(a51.rearrange(PARTNER1)), UPPER1);
            FloatVector p16 = a60.add(a60.rearrange(PARTNER1)).blend(a61.add(a61.rearrange(PARTNER1)), UPPER1);
            FloatVector p17 = a70.add(a70.rearrange(PARTNER1)).blend(a71.add(a71.rearrange(PARTNER1)), UPPER1);
            FloatVector p22 = p14.add(p14.rearrange(PARTNER2)).blend(p15.add(p15.rearrange(PARTNER2)), UPPER2);
            FloatVector p23 = p16.add(p16.rearrange(PARTNER2)).blend(p17.add(p17.rearrange(PARTNER2)), UPPER2);
            FloatVector p30 = p20.add(p20.rearrange(PARTNER3)).blend(p21.add(p21.rearrange(PARTNER3)), UPPER3);
            FloatVector p31 = p22.add(p22.rearrange(PARTNER3)).blend(p23.add(p23.rearrange(PARTNER3)), UPPER3);
            p30.add(p30.rearrange(PARTNER4)).blend(p31.add(p31.rearrange(PARTNER4)), UPPER4).intoArray(lanes, 0);
        } else if (L == 8) {
            p20.add(p20.rearrange(PARTNER3)).blend(p21.add(p21.rearrange(PARTNER3)), UPPER3).intoArray(lanes, 0);
        } else {
            p20.intoArray(lanes, 0);
            p21.intoArray(lanes, L);
        }
        for (int j = 0; j < n; j++) {
            int xj = x0 + j * cols;
            float s0 = lanes[LANE_OF[2 * j]];
            float s1 = lanes[LANE_OF[2 * j + 1]];
            for (int k = upper; k < width; k++) {
                float xk = x[xj + k];
                s0 += (direct != null ? Numbers.bf16ToFloat(direct.get(Numbers.SHORT, w0 + 2L * k)) : tile[t0 + k]) * xk;
                s1 += (direct != null ? Numbers.bf16ToFloat(direct.get(Numbers.SHORT, w1 + 2L * k)) : tile[t1 + k]) * xk;
            }
            int o = y0 + j * yStride;
            y[o] += s0;
            if (rowGap > 0) {
                y[o + rowGap] += s1;
            }
        }
    }

    /**
     * The micro-kernel's lane reduction is a butterfly. At level {@code l} (1 .. log2 L) each lane adds its partner
     * {@code L >> l} lanes away in both vectors of a pair, and the lanes whose {@code L >> l} bit is set keep the second
     * vector's sums, the others the first's. After log2(L) levels over L accumulators each lane holds one
     * accumulator's whole sum, added in a tree whose shape does not depend on where that accumulator sits (IEEE
     * addition commutes), so every token count and every path through the micro-kernel gives the same bits, in every
     * JIT tier. It replaces 2 × MICRO_TOKENS scalar lane sums (~500 scalar operations at 512 bits) with 75 vector ones.
     * One field per level, not arrays: C2 intrinsifies rearrange and blend only for a shuffle and mask of known type.
     */
    private static final VectorShuffle<Float> PARTNER1 = partner(1), PARTNER2 = partner(2), PARTNER3 = partner(3),
            PARTNER4 = partner(4);
    private static final VectorMask<Float> UPPER1 = upper(1), UPPER2 = upper(2), UPPER3 = upper(3), UPPER4 = upper(4);
    /** Where the butterfly leaves accumulator m of the micro-kernel: groups of L, bit-reversed within. */
    private static final int[] LANE_OF = laneOf();

    /** Level {@code level}'s partners, {@code i ^ (L >> level)} (at most log2(L) levels; deeper ones unused). */
    private static VectorShuffle<Float> partner(int level) {
        int[] partner = new int[L];
        for (int i = 0; i < L; i++) {
            partner[i] = i ^ Math.max(1, L >> level);
        }
        return VectorShuffle.fromArray(F, partner, 0);
    }

    /** The lanes whose {@code L >> level} bit is set. */
    private static VectorMask<Float> upper(int level) {
        boolean[] set = new boolean[L];
        for (int i = 0; i < L; i++) {
            set[i] = (i & Math.max(1, L >> level)) != 0;
        }
        return VectorMask.fromArray(F, set, 0);
    }

    private static int[] laneOf() {
        int bits = Integer.numberOfTrailingZeros(L);
        int[] lane = new int[2 * MICRO_TOKENS];
        for (int m = 0; m < lane.length; m++) {
            int within = m % L;
            int reversed = Integer.reverse(within) >>> (32 - bits);
            lane[m] = m - within + reversed;
        }
        return lane;
    }

    /**
     * The lanes of {@code v} added first to last in scalar arithmetic, through {@code lanes} (at least L floats).
     * {@code reduceLanes(ADD)} sums in a tree once C2 has compiled it and in a loop before, so its last bit depends
     * on when the JIT ran: a seeded generation could then differ between two runs, and batch-invariant rows between
     * two paths. Every kernel but the micro-kernel and the BF16 matvec (their butterflies) reduces with this. The vector goes through
     * memory because {@code lane(i)} at 512 bits compiles to a jump table or an extract chain: a micro-kernel spent
     * most of its time there (43 against 73 GFLOP/s on one core of an AVX-512 Zen 5).
     */
    static float sumLanes(FloatVector v, float[] lanes) {
        v.intoArray(lanes, 0);
        return addLanes(lanes);
    }

    /** {@code lanes[0 .. L)} added first to last: {@link #sumLanes} after the vector was stored. */
    static float addLanes(float[] lanes) {
        float sum = lanes[0];
        for (int i = 1; i < L; i++) {
            sum += lanes[i];
        }
        return sum;
    }

    // ---------------------------------------------------------------- element-wise

    @Override
    public void rmsNorm(float[] x, int offset, Tensor weight, float eps, float[] out) {
        int n = weight.cols();
        int upper = n - n % L;
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, offset + i);
            acc = v.fma(v, acc);
        }
        float sumOfSquares = sumLanes(acc, LANES.get());
        for (int i = upper; i < n; i++) {
            sumOfSquares += x[offset + i] * x[offset + i];
        }
        float inverseRms = (float) (1.0 / Math.sqrt(sumOfSquares / n + eps));
        MemorySegment w = weight.data();
        DType dtype = weight.dtype();
        int vectorized = dtype == DType.F16 ? 0 : upper; // no F16 lanes in the Vector API
        for (int i = 0; i < vectorized; i += L) {
            FloatVector wv = dtype == DType.BF16 ? bf16(w, 2L * i) : f32(w, 4L * i);
            FloatVector.fromArray(F, x, offset + i).mul(inverseRms).mul(wv).intoArray(out, offset + i);
        }
        for (int i = vectorized; i < n; i++) {
            out[offset + i] = x[offset + i] * inverseRms * Numbers.read(w, dtype, i);
        }
    }

    @Override
    public void swiGlu(float[] gateUp, int gateOffset, int n, float[] out, int outOffset) {
        int upper = n - n % L;
        for (int i = 0; i < upper; i += L) {
            FloatVector gate = FloatVector.fromArray(F, gateUp, gateOffset + i);
            FloatVector up = FloatVector.fromArray(F, gateUp, gateOffset + n + i);
            FloatVector silu = gate.div(exp(gate.neg()).add(1f));
            silu.mul(up).intoArray(out, outOffset + i);
        }
        for (int i = upper; i < n; i++) {
            out[outOffset + i] = Numbers.silu(gateUp[gateOffset + i]) * gateUp[gateOffset + n + i];
        }
    }

    /** Below this e^x is taken as 0 (the smallest normal float is e^-87.34), above the next as ∞ (so 2^n stays finite). */
    private static final float EXP_LOW = -87.33654f, EXP_HIGH = 88.37626f;

    /**
     * e^x in every lane from multiply-adds and bit operations only: Cody–Waite reduction by ln 2 and Cephes' expf
     * polynomial, within 2 ulp of {@code Math.exp} (ExpTest). {@code lanewise(EXP)} gives other last bits once C2
     * has compiled it than before (701 of 65,536 lanes changed after warm-up), so a seeded generation would depend
     * on when the JIT ran; these operations round the same in every tier.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector clamped = x.lanewise(VectorOperators.MAX, EXP_LOW).lanewise(VectorOperators.MIN, EXP_HIGH);
        return exp(x, clamped).blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_HIGH));
    }

    /** Below this softmax's e^x is 0: 2^n of the reduction must stay a normal float. */
    private static final float SOFTMAX_EXP_LOW = -87f;
    /** 1.5 · 2^23 + 127: adding it rounds to an integer n whose bits, shifted left by 23, are 2^n's. */
    private static final float ROUND_BIASED = 12583039f;

    /**
     * e^x of softmax's {@code score − max ≤ 0} (−∞ for a masked slot, NaN kept), as 2^(x·log₂e) in 12 operations
     * where {@link #exp} takes 19: no clamp (out-of-range lanes are blended to 0 at the end), one reduction step
     * without Cody–Waite's second constant, and Cephes' exp2f polynomial on [−½, ½]. Within 2.1e-7 of e^x relative
     * for x ≥ −10 and 1.3e-6 down to −87 (log₂e's rounding grows with |x|), where the weights no longer count
     * beside the row's maximum, whose weight is 1 exactly (ExpTest). Attention spends a fifth of its time here.
     */
    static FloatVector softmaxExp(FloatVector x) {
        FloatVector round = FloatVector.broadcast(F, ROUND_BIASED);
        FloatVector log2e = FloatVector.broadcast(F, 1.44269504088896341f);
        FloatVector t = x.fma(log2e, round);
        FloatVector f = x.fma(log2e, round.sub(t)); // x·log₂e − n, in [−½, ½]
        FloatVector p = FloatVector.broadcast(F, 1.535336188319500e-4f);
        p = p.fma(f, FloatVector.broadcast(F, 1.339887440266574e-3f));
        p = p.fma(f, FloatVector.broadcast(F, 9.618437357674640e-3f));
        p = p.fma(f, FloatVector.broadcast(F, 5.550332471162809e-2f));
        p = p.fma(f, FloatVector.broadcast(F, 2.402264791363012e-1f));
        p = p.fma(f, FloatVector.broadcast(F, 6.931472028550421e-1f));
        p = p.fma(f, FloatVector.broadcast(F, 1f));
        FloatVector twoToN = ((IntVector) t.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(twoToN).blend(0f, x.lt(SOFTMAX_EXP_LOW));
    }

    /** e^x from x clamped to [EXP_LOW, EXP_HIGH]; 0 below EXP_LOW. */
    private static FloatVector exp(FloatVector x, FloatVector c) {
        FloatVector round = FloatVector.broadcast(F, 12582912f); // 1.5 · 2^23: adding it rounds to an integer
        FloatVector t = c.fma(FloatVector.broadcast(F, 1.44269504088896341f), round);
        FloatVector n = t.sub(round);
        FloatVector r = n.fma(FloatVector.broadcast(F, -0.693359375f), c);
        r = n.fma(FloatVector.broadcast(F, 2.12194440e-4f), r);
        FloatVector p = FloatVector.broadcast(F, 1.9875691500e-4f);
        p = p.fma(r, FloatVector.broadcast(F, 1.3981999507e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(F, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        FloatVector twoToN = ((IntVector) t.reinterpretAsInts()).sub(0x4B400000 - 127).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return y.mul(twoToN).blend(0f, x.lt(EXP_LOW));
    }

    @Override
    public void add(float[] x, float[] delta, int from, int to) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector.fromArray(F, x, i).add(FloatVector.fromArray(F, delta, i)).intoArray(x, i);
        }
        for (; i < to; i++) {
            x[i] += delta[i];
        }
    }

    // ---------------------------------------------------------------- attention

    /** Bytes with as many lanes as F, or twice as many where F is 128 bits (there are no 32-bit vectors). */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 4)));
    static final int BYTE_PARTS = B.length() / L;
    private static final int F32_KV = 0, BF16_KV = 1, I8_KV = 2;
    /**
     * Query rows scored per pass over a page's keys: 8 where 32 vector registers hold their 16 accumulators (512
     * bits: the 7 query heads of a KV head in one pass), else 4. Rows past the last repeat it into scratch rows.
     */
    static final int SCORE_ROWS = MICRO_TOKENS;
    /** Query rows per pass over a page's values: 8 × 2 vectors of accumulators at 512 bits, 4 × 2 below. */
    static final int VALUE_ROWS = MICRO_TOKENS;

    /**
     * Scores of each page: {@link #SCORE_ROWS} query rows × 2 vectors of positions per pass, one broadcast of a query
     * element and one load of a transposed key row per dimension and row, no lane reduction. Then one softmax
     * update per row over all the pages' slots. Values page by page: {@link #VALUE_ROWS} rows × 2 vectors of
     * dimensions per pass over the slots some row sees. Rows are padded to whole blocks with dummy rows of zero
     * weight whose results are never read (scratch {@code scores} and {@code acc} have room for them).
     */
    @Override
    public void attendPages(float[] q, int[] qRows, int rows, KvCacheLayer cache, int kvHead, int firstPage, int pageCount,
                            int[] lo, int[] hi, float scale, float[] m, float[] l, float[] acc, float[] scores) {
        if (pageCount > CHUNK_PAGES) {
            throw new IllegalArgumentException(pageCount + " pages in one run, more than the scratch's " + CHUNK_PAGES);
        }
        int kind = cache.dtype() == DType.F32 ? F32_KV : cache.dtype() == DType.BF16 ? BF16_KV : I8_KV;
        int headDim = cache.headDim();
        int pageElements = KvCacheLayer.PAGE * headDim;
        PageTable table = cache.pages();
        // Many rows (a prefill block) would widen each BF16 or I8 element once per row block: widen the run's pages
        // once into F32 scratch instead, the same values, so the same bits.
        boolean widen = kind != F32_KV && rows > SCORE_ROWS;
        MemorySegment keys = cache.keys();
        MemorySegment values = cache.values();
        int dataKind = kind;
        if (widen) {
            WidePages wide = WidePages.get(pageElements);
            keys = wide.keys;
            values = wide.values;
            dataKind = F32_KV;
            for (int i = 0; i < pageCount; i++) {
                widen(cache.keys(), cache.keyIndex(table.page(firstPage + i), kvHead, 0), kind, keys, (long) i * pageElements,
                        pageElements);
            }
        }
        KvCacheLayer keyScales = kind == I8_KV ? cache : null;
        for (int i = 0; i < pageCount; i++) {
            int page = table.page(firstPage + i);
            long base = widen ? (long) i * pageElements : cache.keyIndex(page, kvHead, 0);
            scorePage(q, qRows, rows, keys, base, dataKind, keyScales, kvHead, page, headDim, scale, scores,
                    i * KvCacheLayer.PAGE);
        }
        int chunkStart = firstPage * KvCacheLayer.PAGE;
        int slots = pageCount * KvCacheLayer.PAGE;
        float[] lanes = LANES.get();
        int from = slots;
        int to = 0;
        for (int r = 0; r < rows; r++) {
            int first = Math.max(0, lo[r] - chunkStart);
            int end = Math.min(slots, hi[r] - chunkStart + 1);
            softmaxUpdate(scores, r, first, end, slots, cache, kvHead, firstPage, headDim, m, l, acc, lanes);
            if (first < end) {
                from = Math.min(from, first);
                to = Math.max(to, end);
            }
        }
        if (from >= to) {
            return;
        }
        int padded = (rows + VALUE_ROWS - 1) / VALUE_ROWS * VALUE_ROWS;
        java.util.Arrays.fill(scores, rows * CHUNK_SLOTS, padded * CHUNK_SLOTS, 0f); // the dummy rows
        long[] valueRows = VALUE_PAGES.get();
        for (int i = from >>> KvCacheLayer.PAGE_SHIFT; i <= (to - 1) >>> KvCacheLayer.PAGE_SHIFT; i++) {
            long base = cache.valueIndex(table.page(firstPage + i), kvHead, 0);
            if (widen) {
                widen(cache.values(), base, kind, values, (long) i * pageElements, pageElements);
                base = (long) i * pageElements;
            }
            valueRows[i] = base - (long) i * pageElements;
        }
        for (int r = 0; r < rows; r += VALUE_ROWS) {
            addValues(scores, r, rows, from, to, values, dataKind, valueRows, headDim, acc);
        }
    }

    /** {@code count} (a multiple of L) cache elements from {@code index} on, as floats into F32 {@code dst} from {@code dstIndex}. */
    private static void widen(MemorySegment src, long index, int kind, MemorySegment dst, long dstIndex, int count) {
        for (int e = 0; e < count; e += L) {
            kvLoad(src, kind, index + e).intoMemorySegment(dst, 4 * (dstIndex + e), LE);
        }
    }

    /** One worker's F32 copies of an attention run's key and value pages, grown to the largest head seen. */
    private static final class WidePages {
        private static final ThreadLocal<WidePages> MINE = new ThreadLocal<>();

        final MemorySegment keys;
        final MemorySegment values;
        final int pageElements;

        private WidePages(int pageElements) {
            this.pageElements = pageElements;
            Arena arena = Arena.ofAuto();
            keys = arena.allocate(4L * CHUNK_PAGES * pageElements, 64);
            values = arena.allocate(4L * CHUNK_PAGES * pageElements, 64);
        }

        static WidePages get(int pageElements) {
            WidePages wide = MINE.get();
            if (wide == null || wide.pageElements < pageElements) {
                wide = new WidePages(pageElements);
                MINE.set(wide);
            }
            return wide;
        }
    }

    /**
     * Scores of one page into columns {@code column..column + PAGE) of each row of {@code scores}: its keys from
     * element {@code pageBase} of {@code keys} (the cache's, or their F32 copy), read as {@code kind}; {@code scaled},
     * for I8 keys, holds the scales of physical page {@code page} (else null).
     */
    private static void scorePage(float[] q, int[] qRows, int rows, MemorySegment keys, long pageBase, int kind,
                                  KvCacheLayer scaled, int kvHead, int page, int headDim, float scale, float[] scores,
                                  int column) {
        int slots = KvCacheLayer.PAGE;
        for (int r = 0; r < rows; r += SCORE_ROWS) {
            int q0 = qRows[r];
            int q1 = qRows[Math.min(r + 1, rows - 1)];
            int q2 = qRows[Math.min(r + 2, rows - 1)];
            int q3 = qRows[Math.min(r + 3, rows - 1)];
            int q4 = qRows[Math.min(r + 4, rows - 1)];
            int q5 = qRows[Math.min(r + 5, rows - 1)];
            int q6 = qRows[Math.min(r + 6, rows - 1)];
            int q7 = qRows[Math.min(r + 7, rows - 1)];
            boolean eighth = r + 7 < rows; // else a dummy row: 7 query heads a KV head (Qwen2.5) fill 7 of 8
            for (int g = 0; g < slots; g += 2 * L) {
                FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F);
                FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F);
                FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F);
                FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F);
                FloatVector a40 = FloatVector.zero(F), a41 = FloatVector.zero(F);
                FloatVector a50 = FloatVector.zero(F), a51 = FloatVector.zero(F);
                FloatVector a60 = FloatVector.zero(F), a61 = FloatVector.zero(F);
                FloatVector a70 = FloatVector.zero(F), a71 = FloatVector.zero(F);
                long k = pageBase + g;
                for (int d = 0; d < headDim; d++, k += slots) {
                    FloatVector k0 = kvLoad(keys, kind, k);
                    FloatVector k1 = kvLoadNext(keys, kind, k);
                    FloatVector b = FloatVector.broadcast(F, q[q0 + d]);
                    a00 = k0.fma(b, a00);
                    a01 = k1.fma(b, a01);
                    b = FloatVector.broadcast(F, q[q1 + d]);
                    a10 = k0.fma(b, a10);
                    a11 = k1.fma(b, a11);
                    b = FloatVector.broadcast(F, q[q2 + d]);
                    a20 = k0.fma(b, a20);
                    a21 = k1.fma(b, a21);
                    b = FloatVector.broadcast(F, q[q3 + d]);
                    a30 = k0.fma(b, a30);
                    a31 = k1.fma(b, a31);
                    if (SCORE_ROWS == 8) {
                        b = FloatVector.broadcast(F, q[q4 + d]);
                        a40 = k0.fma(b, a40);
                        a41 = k1.fma(b, a41);
                        b = FloatVector.broadcast(F, q[q5 + d]);
                        a50 = k0.fma(b, a50);
                        a51 = k1.fma(b, a51);
                        b = FloatVector.broadcast(F, q[q6 + d]);
                        a60 = k0.fma(b, a60);
                        a61 = k1.fma(b, a61);
                        if (eighth) {
                            b = FloatVector.broadcast(F, q[q7 + d]);
                            a70 = k0.fma(b, a70);
                            a71 = k1.fma(b, a71);
                        }
                    }
                }
                FloatVector s0 = FloatVector.broadcast(F, scale);
                FloatVector s1 = s0;
                if (scaled != null) { // I8 keys: each position's scale
                    long scales = 4 * scaled.scaleIndex(page, kvHead, g);
                    s0 = f32(scaled.keyScales(), scales).mul(scale);
                    s1 = f32(scaled.keyScales(), scales + 4L * L).mul(scale);
                }
                int o = r * CHUNK_SLOTS + column + g;
                a00.mul(s0).intoArray(scores, o);
                a01.mul(s1).intoArray(scores, o + L);
                a10.mul(s0).intoArray(scores, o + CHUNK_SLOTS);
                a11.mul(s1).intoArray(scores, o + CHUNK_SLOTS + L);
                a20.mul(s0).intoArray(scores, o + 2 * CHUNK_SLOTS);
                a21.mul(s1).intoArray(scores, o + 2 * CHUNK_SLOTS + L);
                a30.mul(s0).intoArray(scores, o + 3 * CHUNK_SLOTS);
                a31.mul(s1).intoArray(scores, o + 3 * CHUNK_SLOTS + L);
                if (SCORE_ROWS == 8) {
                    a40.mul(s0).intoArray(scores, o + 4 * CHUNK_SLOTS);
                    a41.mul(s1).intoArray(scores, o + 4 * CHUNK_SLOTS + L);
                    a50.mul(s0).intoArray(scores, o + 5 * CHUNK_SLOTS);
                    a51.mul(s1).intoArray(scores, o + 5 * CHUNK_SLOTS + L);
                    a60.mul(s0).intoArray(scores, o + 6 * CHUNK_SLOTS);
                    a61.mul(s1).intoArray(scores, o + 6 * CHUNK_SLOTS + L);
                    if (eighth) {
                        a70.mul(s0).intoArray(scores, o + 7 * CHUNK_SLOTS);
                        a71.mul(s1).intoArray(scores, o + 7 * CHUNK_SLOTS + L);
                    }
                }
            }
        }
    }

    /**
     * Row r over visible slots [first, end) of the {@code slots} scored from logical page {@code firstPage} on: new
     * maximum, rescaled sum and output, exp weights left in scores.
     */
    private static void softmaxUpdate(float[] scores, int r, int first, int end, int slots, KvCacheLayer cache,
                                      int kvHead, int firstPage, int headDim, float[] m, float[] l, float[] acc,
                                      float[] lanes) {
        int row = r * CHUNK_SLOTS;
        if (first >= end) {
            java.util.Arrays.fill(scores, row, row + slots, 0f);
            return;
        }
        if (first > 0 || end < slots) { // a window's or the causal edge
            java.util.Arrays.fill(scores, row, row + first, Float.NEGATIVE_INFINITY);
            java.util.Arrays.fill(scores, row + end, row + slots, Float.NEGATIVE_INFINITY);
        }
        FloatVector max = FloatVector.fromArray(F, scores, row);
        for (int s = L; s < slots; s += L) { // a compare and a blend: Java's max would also order NaN and ±0
            FloatVector v = FloatVector.fromArray(F, scores, row + s);
            max = max.blend(v, v.compare(VectorOperators.GT, max));
        }
        float newMax = Math.max(m[r], max.reduceLanes(VectorOperators.MAX));
        // Deep in a context the maximum seldom moves: then e^0 = 1 rescales nothing (and the first run's acc is 0).
        boolean rescale = newMax != m[r] && m[r] != Float.NEGATIVE_INFINITY;
        float correction = rescale ? (float) Math.exp(m[r] - newMax) : 1f;
        FloatVector sum = FloatVector.zero(F);
        for (int s = 0; s < slots; s += L) {
            FloatVector p = softmaxExp(FloatVector.fromArray(F, scores, row + s).sub(newMax));
            sum = sum.add(p);
            if (cache.valueScales() != null) { // an I8 value's scale folds into its weight
                int page = cache.pages().page(firstPage + (s >>> KvCacheLayer.PAGE_SHIFT));
                p = p.mul(f32(cache.valueScales(), 4 * cache.scaleIndex(page, kvHead, s & (KvCacheLayer.PAGE - 1))));
            }
            p.intoArray(scores, row + s);
        }
        l[r] = l[r] * correction + sumLanes(sum, lanes);
        m[r] = newMax;
        if (!rescale) {
            return;
        }
        int a = r * headDim;
        int d = 0;
        for (; d + L <= headDim; d += L) {
            FloatVector.fromArray(F, acc, a + d).mul(correction).intoArray(acc, a + d);
        }
        for (; d < headDim; d++) {
            acc[a + d] *= correction;
        }
    }

    /**
     * acc[r..r+VALUE_ROWS) += weights (row r's at scores[r · CHUNK_SLOTS..], the next rows' {@link #CHUNK_SLOTS} apart)
     * · value rows over the run's slots [from, to), slot s of the run at element {@code valueRows[s / PAGE] + s ·
     * headDim}, in passes of 2 vectors of dimensions: each value vector loaded (and widened) once serves all {@link
     * #VALUE_ROWS} rows, and the accumulators stay in registers across the run's pages. Rows past the last have zero
     * weights and accumulate into scratch rows, never read. Each (row, dimension) adds its slots in order, one FMA each.
     */
    private static void addValues(float[] scores, int r, int rows, int from, int to, MemorySegment values, int kind,
                                  long[] valueRows, int headDim, float[] acc) {
        boolean eighth = r + 7 < rows; // else a dummy row of zero weight, skipped
        final int slots = CHUNK_SLOTS; // between one row's weights and the next's
        int p = r * CHUNK_SLOTS;
        int d = 0;
        for (; d + 2 * L <= headDim; d += 2 * L) {
            int o = r * headDim + d;
            FloatVector a0 = FloatVector.fromArray(F, acc, o), b0 = FloatVector.fromArray(F, acc, o + L);
            FloatVector a1 = FloatVector.fromArray(F, acc, o + headDim), b1 = FloatVector.fromArray(F, acc, o + headDim + L);
            FloatVector a2 = FloatVector.fromArray(F, acc, o + 2 * headDim), b2 = FloatVector.fromArray(F, acc, o + 2 * headDim + L);
            FloatVector a3 = FloatVector.fromArray(F, acc, o + 3 * headDim), b3 = FloatVector.fromArray(F, acc, o + 3 * headDim + L);
            FloatVector a4 = a0, b4 = a0, a5 = a0, b5 = a0, a6 = a0, b6 = a0, a7 = a0, b7 = a0;
            if (VALUE_ROWS == 8) {
                a4 = FloatVector.fromArray(F, acc, o + 4 * headDim);
                b4 = FloatVector.fromArray(F, acc, o + 4 * headDim + L);
                a5 = FloatVector.fromArray(F, acc, o + 5 * headDim);
                b5 = FloatVector.fromArray(F, acc, o + 5 * headDim + L);
                a6 = FloatVector.fromArray(F, acc, o + 6 * headDim);
                b6 = FloatVector.fromArray(F, acc, o + 6 * headDim + L);
                if (eighth) {
                    a7 = FloatVector.fromArray(F, acc, o + 7 * headDim);
                    b7 = FloatVector.fromArray(F, acc, o + 7 * headDim + L);
                }
            }
            for (int s = from; s < to; ) {
                int pageEnd = Math.min(to, (s | (KvCacheLayer.PAGE - 1)) + 1);
                long rowBase = valueRows[s >>> KvCacheLayer.PAGE_SHIFT] + d;
                for (; s < pageEnd; s++) {
                    long v = rowBase + (long) s * headDim;
                    FloatVector v0 = kvLoad(values, kind, v);
                    FloatVector v1 = kvLoadNext(values, kind, v);
                    FloatVector w = FloatVector.broadcast(F, scores[p + s]);
                    a0 = v0.fma(w, a0);
                    b0 = v1.fma(w, b0);
                    w = FloatVector.broadcast(F, scores[p + slots + s]);
                    a1 = v0.fma(w, a1);
                    b1 = v1.fma(w, b1);
                    w = FloatVector.broadcast(F, scores[p + 2 * slots + s]);
                    a2 = v0.fma(w, a2);
                    b2 = v1.fma(w, b2);
                    w = FloatVector.broadcast(F, scores[p + 3 * slots + s]);
                    a3 = v0.fma(w, a3);
                    b3 = v1.fma(w, b3);
                    if (VALUE_ROWS == 8) {
                        w = FloatVector.broadcast(F, scores[p + 4 * slots + s]);
                        a4 = v0.fma(w, a4);
                        b4 = v1.fma(w, b4);
                        w = FloatVector.broadcast(F, scores[p + 5 * slots + s]);
                        a5 = v0.fma(w, a5);
                        b5 = v1.fma(w, b5);
                        w = FloatVector.broadcast(F, scores[p + 6 * slots + s]);
                        a6 = v0.fma(w, a6);
                        b6 = v1.fma(w, b6);
                        if (eighth) {
                            w = FloatVector.broadcast(F, scores[p + 7 * slots + s]);
                            a7 = v0.fma(w, a7);
                            b7 = v1.fma(w, b7);
                        }
                    }
                }
            }
            a0.intoArray(acc, o);
            b0.intoArray(acc, o + L);
            a1.intoArray(acc, o + headDim);
            b1.intoArray(acc, o + headDim + L);
            a2.intoArray(acc, o + 2 * headDim);
            b2.intoArray(acc, o + 2 * headDim + L);
            a3.intoArray(acc, o + 3 * headDim);
            b3.intoArray(acc, o + 3 * headDim + L);
            if (VALUE_ROWS == 8) {
                a4.intoArray(acc, o + 4 * headDim);
                b4.intoArray(acc, o + 4 * headDim + L);
                a5.intoArray(acc, o + 5 * headDim);
                b5.intoArray(acc, o + 5 * headDim + L);
                a6.intoArray(acc, o + 6 * headDim);
                b6.intoArray(acc, o + 6 * headDim + L);
                if (eighth) {
                    a7.intoArray(acc, o + 7 * headDim);
                    b7.intoArray(acc, o + 7 * headDim + L);
                }
            }
        }
        for (; d < headDim; d++) { // a head size that is not a multiple of 2 vectors: its last dimensions
            for (int i = 0; i < VALUE_ROWS; i++) {
                int o = (r + i) * headDim + d;
                float a = acc[o];
                for (int s = from; s < to; s++) {
                    long v = valueRows[s >>> KvCacheLayer.PAGE_SHIFT] + (long) s * headDim + d;
                    a += scores[p + i * slots + s] * kvScalar(values, kind, v);
                }
                acc[o] = a;
            }
        }
    }

    /**
     * L cache elements from element {@code index} on, as floats (I8: the integers). The loads are written out, not
     * calls to f32(), bf16() and i8(): prefill scores every kind on widened F32 pages, so the BF16 and I8 cases stay
     * cold in the profile and C2 refused to inline those helpers there ("already compiled into a medium method"),
     * boxing each vector: BF16-cache decode ran at 17 tok/s against 26-32 with the F32 cache (context 600).
     */
    private static FloatVector kvLoad(MemorySegment data, int kind, long index) {
        return switch (kind) {
            case F32_KV -> FloatVector.fromMemorySegment(F, data, 4 * index, LE);
            case BF16_KV -> ((IntVector) ShortVector.fromMemorySegment(S, data, 2 * index, LE).castShape(I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            default -> (FloatVector) ByteVector.fromMemorySegment(B, data, index, LE).convertShape(VectorOperators.B2F, F, 0);
        };
    }

    /** The L elements after {@code kvLoad(data, kind, index)}'s. */
    private static FloatVector kvLoadNext(MemorySegment data, int kind, long index) {
        return kind == I8_KV && BYTE_PARTS == 2
                ? (FloatVector) ByteVector.fromMemorySegment(B, data, index, LE).convertShape(VectorOperators.B2F, F, 1)
                : kvLoad(data, kind, index + L);
    }

    private static float kvScalar(MemorySegment data, int kind, long index) {
        return switch (kind) {
            case F32_KV -> data.get(Numbers.FLOAT, 4 * index);
            case BF16_KV -> Numbers.bf16ToFloat(data.get(Numbers.SHORT, 2 * index));
            default -> data.get(java.lang.foreign.ValueLayout.JAVA_BYTE, index);
        };
    }

    /** Part {@code part} (L lanes) of the bytes at {@code byteOffset}, as floats. */
    static FloatVector i8(MemorySegment data, long byteOffset, int part) {
        return (FloatVector) ByteVector.fromMemorySegment(B, data, byteOffset, LE).convertShape(VectorOperators.B2F, F, part);
    }

    // ---------------------------------------------------------------- probes

    @Override
    public float sum(MemorySegment data, long from, long to) {
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
        long step = 4L * F.vectorByteSize();
        long i = from;
        for (; i + step <= to; i += step) {
            s0 = s0.add(f32(data, i));
            s1 = s1.add(f32(data, i + F.vectorByteSize()));
            s2 = s2.add(f32(data, i + 2L * F.vectorByteSize()));
            s3 = s3.add(f32(data, i + 3L * F.vectorByteSize()));
        }
        float sum = sumLanes(s0.add(s1).add(s2.add(s3)), LANES.get());
        for (; i + 4 <= to; i += 4) {
            sum += data.get(Numbers.FLOAT, i);
        }
        return sum;
    }

    /** Ten accumulators: more than FMA latency × FMA ports on current x86 and ARM cores, so the units never wait. */
    @Override
    public float fmaLoop(long iterations, float multiplier) {
        FloatVector m = FloatVector.broadcast(F, multiplier);
        FloatVector c = FloatVector.broadcast(F, 1e-3f);
        FloatVector a0 = FloatVector.broadcast(F, 1f), a1 = FloatVector.broadcast(F, 2f);
        FloatVector a2 = FloatVector.broadcast(F, 3f), a3 = FloatVector.broadcast(F, 4f);
        FloatVector a4 = FloatVector.broadcast(F, 5f), a5 = FloatVector.broadcast(F, 6f);
        FloatVector a6 = FloatVector.broadcast(F, 7f), a7 = FloatVector.broadcast(F, 8f);
        FloatVector a8 = FloatVector.broadcast(F, 9f), a9 = FloatVector.broadcast(F, 10f);
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9)
                .reduceLanes(VectorOperators.ADD);
    }

    @Override
    public long flopsPerFmaIteration() {
        return 10L * L * 2;
    }
}
