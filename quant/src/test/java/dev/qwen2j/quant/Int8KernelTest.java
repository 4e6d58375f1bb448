package dev.qwen2j.quant;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.Backend;
import dev.qwen2j.tensor.CpuBackend;
import dev.qwen2j.tensor.Tensor;
import dev.qwen2j.tensor.VectorBits;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * int8 linear maps through {@link CpuBackend}: the vector kernels at every width (2 threads, so chunks split parts)
 * against the scalar twins, for decode (int8 × F32 and int8 × int8) and prefill (dequantized blocks), and the scalar
 * ones against a double-precision sum over the dequantized weights (and, for int8 × int8, the quantized input).
 * Tolerance as in the float LinearTest: two F32 sums of n products in different orders differ by at most
 * 2·n·2⁻²⁴·Σ|w·x|; a wrong index or scale breaks it by orders of magnitude.
 */
class Int8KernelTest {

    private static final CpuBackend SCALAR = CpuBackend.scalar(1);
    private static final Map<Integer, CpuBackend> VECTOR = new ConcurrentHashMap<>();
    private static final double U = Math.ulp(1f) / 2;

    @AfterAll
    static void close() {
        SCALAR.close();
        VECTOR.values().forEach(CpuBackend::close);
    }

    static IntStream widths() {
        return IntStream.of(VectorBits.SUPPORTED);
    }

    @ParameterizedTest(name = "{0} bits")
    @MethodSource("widths")
    void vectorMatchesScalar(int bits) {
        CpuBackend backend = VECTOR.computeIfAbsent(bits, b -> CpuBackend.create(2, b));
        Random random = new Random(11);
        int[][] shapes = {{32, 32}, {64, 32}, {96, 32}, {128, 64}, {160, 0}, {7, 0}, {100, 0}, {40, 8}, {1030, 0}, {96, 96}};
        int[] rowsChoices = {1, 3, 16, 17, 33};
        int[] tokenChoices = {1, 1, 1, 2, 5, 9};
        for (Int8Activations activations : Int8Activations.values()) {
            for (int trial = 0; trial < 24; trial++) {
                checkRandomMap(backend, shapes, rowsChoices, tokenChoices, false, activations, random,
                        activations + " trial " + trial);
            }
        }
    }

    /**
     * One to three parts of a random shape from {@code shapes} ({cols, group}; group 0: channel), each of a random
     * height from {@code rowsChoices}, tiled if {@code tiled}, with or without biases, through {@link #check}.
     */
    private static void checkRandomMap(CpuBackend backend, int[][] shapes, int[] rowsChoices, int[] tokenChoices,
                                       boolean tiled, Int8Activations activations, Random random, String what) {
        int[] shape = shapes[random.nextInt(shapes.length)];
        int cols = shape[0];
        int group = shape[1] == 0 ? cols : shape[1];
        int tokens = tokenChoices[random.nextInt(tokenChoices.length)];
        List<Int8Matrix> parts = new ArrayList<>();
        List<Tensor> biases = new ArrayList<>();
        boolean withBias = random.nextBoolean();
        for (int p = 0, n = 1 + random.nextInt(3); p < n; p++) {
            int rows = rowsChoices[random.nextInt(rowsChoices.length)];
            Int8Matrix part = Int8Quantizer.quantize(randomTensor("w" + p, rows, cols, random), group);
            parts.add(tiled ? part.toTiled() : part);
            biases.add(withBias ? randomTensor("b" + p, 1, rows, random) : null);
        }
        check(backend, parts, withBias ? biases : null, tokens, activations, random,
                what + " cols " + cols + " group " + group + " tokens " + tokens);
    }

    private static void check(CpuBackend backend, List<Int8Matrix> parts, List<Tensor> biases, int tokens,
                              Int8Activations activations, Random random, String what) {
        String previous = System.setProperty(Int8Activations.PROPERTY, activations.name().toLowerCase(java.util.Locale.ROOT));
        Backend.LinearWeights vectorWeights;
        Backend.LinearWeights scalarWeights;
        try {
            vectorWeights = backend.packedLinear(parts, biases);
            scalarWeights = SCALAR.packedLinear(parts, biases);
        } finally {
            if (previous == null) {
                System.clearProperty(Int8Activations.PROPERTY);
            } else {
                System.setProperty(Int8Activations.PROPERTY, previous);
            }
        }
        int in = vectorWeights.inFeatures();
        int out = vectorWeights.outFeatures();
        float[] x = new float[tokens * in];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextFloat() * 2 - 1;
        }
        float[] vectorY = new float[tokens * out];
        float[] scalarY = new float[tokens * out];
        backend.linear(vectorWeights, x, vectorY, tokens);
        SCALAR.linear(scalarWeights, x, scalarY, tokens);
        // The input the kernels multiply with: int8 × int8 runs on the quantized activations of a single token.
        boolean quantizedInput = tokens == 1 && activations == Int8Activations.INT8 && in % Int8Input.BLOCK == 0
                && parts.stream().allMatch(m -> m.groupSize() % Int8Input.BLOCK == 0 && !m.tiled());
        float[] input = quantizedInput ? dequantizedInput(x, in) : x;
        for (int t = 0; t < tokens; t++) {
            int row = 0;
            for (int p = 0; p < parts.size(); p++) {
                Int8Matrix w = parts.get(p);
                float[] dequantized = new float[in];
                for (int r = 0; r < w.rows(); r++, row++) {
                    w.dequantize(r, 0, in, dequantized, 0);
                    double exact = 0;
                    double magnitude = 0;
                    for (int k = 0; k < in; k++) {
                        double product = (double) dequantized[k] * input[t * in + k];
                        exact += product;
                        magnitude += Math.abs(product);
                    }
                    double bias = biases == null ? 0 : Int8QuantizerTest.element(biases.get(p), r);
                    exact += bias;
                    magnitude += Math.abs(bias);
                    double bound = 2 * (in + 2) * U * magnitude + Float.MIN_NORMAL;
                    int i = t * out + row;
                    String where = what + " token " + t + " row " + row;
                    assertEquals(exact, scalarY[i], bound, "scalar vs exact, " + where);
                    assertEquals(scalarY[i], vectorY[i], 2 * bound, "vector vs scalar, " + where);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} bits")
    @MethodSource("widths")
    void batchInvariantRowsDoNotDependOnTheirNeighbours(int bits) {
        Random random = new Random(5);
        assertBatchInvariant(bits, Int8Quantizer.quantize(randomTensor("w", 33, 128, random), 32), 5, random);
    }

    /** Each token's outputs of {@code m} are the same bits in a pass of 1 .. {@code tokens} tokens. */
    private static void assertBatchInvariant(int bits, Int8Matrix m, int tokens, Random random) {
        CpuBackend backend = VECTOR.computeIfAbsent(bits, b -> CpuBackend.create(2, b));
        Backend.LinearWeights w = backend.packedLinear(List.of(m), null);
        int in = m.cols();
        int out = m.rows();
        float[] x = new float[tokens * in];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextFloat() * 2 - 1;
        }
        float[] all = new float[tokens * out];
        backend.linearBatchInvariant(w, x, all, tokens);
        for (int n = 1; n < tokens; n++) {
            float[] few = new float[n * out];
            backend.linearBatchInvariant(w, java.util.Arrays.copyOf(x, n * in), few, n);
            for (int i = 0; i < few.length; i++) {
                assertEquals(Float.floatToRawIntBits(all[i]), Float.floatToRawIntBits(few[i]), n + " tokens, " + i);
            }
        }
    }

    /**
     * The tiled layout at every width: decode (its own kernel) and prefill (its outer-product kernel, converting as it
     * goes up to 8 tokens, through a panel beyond), against the scalar formula on the same tiled matrices and the exact
     * sum, for groups and channel scales, one to three fused parts.
     */
    @ParameterizedTest(name = "{0} bits")
    @MethodSource("widths")
    void tiledMatchesScalar(int bits) {
        CpuBackend backend = VECTOR.computeIfAbsent(bits, b -> CpuBackend.create(2, b));
        Random random = new Random(17);
        int[][] shapes = {{32, 32}, {64, 32}, {96, 0}, {128, 64}, {320, 32}, {896, 32}};
        int[] rowsChoices = {64, 128, 192, 320};
        int[] tokenChoices = {1, 1, 2, 5, 8, 9, 17};
        for (int trial = 0; trial < 20; trial++) {
            // Asked for int8 activations, a tiled map still multiplies the F32 input (Int8Decode.tiled).
            checkRandomMap(backend, shapes, rowsChoices, tokenChoices, true, Int8Activations.INT8, random,
                    "tiled trial " + trial);
        }
    }

    /**
     * A range that cuts a tile: the tiles' kernel leaves its partial tiles to the scalar rows, the same sums. Ranges
     * of 1 to 7 whole tiles cover the tiles taken in threes and alone.
     */
    @ParameterizedTest(name = "{0} bits")
    @MethodSource("widths")
    void tiledDecodeOfRangesThatCutTiles(int bits) {
        Random random = new Random(3);
        Int8Matrix rows = Int8Quantizer.quantize(randomTensor("w", 448, 96, random), 32);
        Int8Matrix tiled = rows.toTiled();
        float[] x = new float[96];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextFloat() * 2 - 1;
        }
        Int8Decode vector = Int8Decode.tiled(bits);
        Int8Decode scalar = Int8Decode.of(0, Int8Activations.F32);
        for (int[] range : new int[][]{{0, 448}, {0, 320}, {64, 320}, {0, 192}, {16, 176}, {70, 130}, {64, 128}, {5, 9}}) {
            float[] expected = new float[448];
            float[] actual = new float[448];
            scalar.matvec(rows, range[0], range[1], scalar.prepare(x, 96), expected, 0, null);
            vector.matvec(tiled, range[0], range[1], vector.prepare(x, 96), actual, 0, null);
            for (int r = 0; r < 448; r++) {
                assertEquals(expected[r], actual[r], 1e-4f * (1 + Math.abs(expected[r])), "rows " + range[0] + ".." + range[1] + ", row " + r);
            }
        }
    }

    /** The tiled layout holds the same values and scales, whether quantized into it, copied, or read back. */
    @Test
    void tiledLayoutHoldsTheRowMajorValues() {
        Random random = new Random(8);
        Tensor source = randomTensor("w", 192, 96, random);
        Int8Matrix rows = Int8Quantizer.quantize(source, 32);
        Int8Matrix copied = rows.toTiled();
        Int8Matrix quantized = Int8Quantizer.allocate(source, 32, true);
        Int8Quantizer.quantizeRows(source, quantized, 0, 70, DType.F32); // a range ending mid-tile, then the rest
        Int8Quantizer.quantizeRows(source, quantized, 70, 192, DType.F32);
        float[] expected = new float[96];
        float[] actual = new float[96];
        for (Int8Matrix tiled : List.of(copied, quantized, copied.toTiled())) {
            assertTrue(tiled.tiled());
            for (int r = 0; r < 192; r++) {
                for (int k = 0; k < 96; k++) {
                    assertEquals(rows.value(r, k), tiled.value(r, k), "row " + r + " col " + k);
                }
                for (int g = 0; g < 3; g++) {
                    assertEquals(rows.scale(r, g), tiled.scale(r, g), "row " + r + " group " + g);
                }
                rows.dequantize(r, 5, 80, expected, 0);
                tiled.dequantize(r, 5, 80, actual, 0);
                assertEquals(0, java.util.Arrays.compare(expected, actual), "row " + r);
            }
        }
        for (int bits : VectorBits.SUPPORTED) { // each width's kernels read a tiled row as the matrix itself does
            Int8Decode kernels = Int8Decode.tiled(bits);
            for (int r = 0; r < 192; r++) {
                rows.dequantize(r, 5, 80, expected, 0);
                kernels.dequantize(copied, r, 5, 80, actual, 0);
                assertEquals(0, java.util.Arrays.compare(expected, actual), bits + " bits, row " + r);
            }
        }
        assertEquals(Int8Matrix.TILE_ROWS, copied.rowAlignment());
        assertThrows(IllegalArgumentException.class, () -> Int8Quantizer.quantize(randomTensor("odd", 65, 32, random), 32).toTiled());
    }

    /** Up to 8 tokens convert the tiles as they go, more go through a panel: the same bits either way. */
    @ParameterizedTest(name = "{0} bits")
    @MethodSource("widths")
    void tiledBatchInvariantRowsDoNotDependOnTheirNeighbours(int bits) {
        Random random = new Random(6);
        assertBatchInvariant(bits, Int8Quantizer.quantize(randomTensor("w", 128, 320, random), 32).toTiled(), 11, random);
    }

    /** x quantized per block exactly as {@link Int8Input} does, and back: what the int8 × int8 kernels see. */
    private static float[] dequantizedInput(float[] x, int cols) {
        Int8Input input = new Int8Input().set(x, cols, true);
        float[] back = new float[cols];
        for (int k = 0; k < cols; k++) {
            back[k] = input.values()[k] * input.scales()[k / Int8Input.BLOCK];
        }
        return back;
    }

    @Test
    void partsOfOneMapShareColumns() {
        Random random = new Random(2);
        Int8Matrix a = Int8Quantizer.quantize(randomTensor("a", 4, 32, random), 32);
        Int8Matrix b = Int8Quantizer.quantize(randomTensor("b", 4, 64, random), 32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SCALAR.packedLinear(List.of(a, b), null));
        assertTrue(e.getMessage().contains("b"), e.getMessage());
    }

    /** Random values in [-1, 1) as F32, off-heap at an odd address (the kernels must not assume alignment). */
    /** Same bits at every width: groups the vectors divide and not, zero groups, ties, extremes, each scale dtype. */
    @ParameterizedTest(name = "{0} bits")
    @MethodSource("widths")
    void quantizerMatchesScalar(int bits) {
        Random random = new Random(23);
        int[][] shapes = {{96, 32}, {96, 96}, {64, 16}, {40, 8}, {36, 12}, {7, 7}, {1030, 1030}};
        for (int[] shape : shapes) {
            int rows = 9;
            int cols = shape[0];
            Tensor w = randomTensor("w", rows, cols, random);
            MemorySegment data = w.data();
            for (int k = 0; k < Math.min(cols, shape[1]); k++) {
                data.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4L * k, 0f); // row 0's first group: all zero
            }
            for (int k = 0; k < cols; k++) { // row 1: multiples of half a step, so rounding ties to even matter
                data.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4L * (cols + k), (k % 255 - 127) * 0.5f);
            }
            data.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4L * (2 * cols), -Float.MAX_VALUE / 2); // row 2: a huge weight
            for (DType scaleType : new DType[]{DType.F32, DType.BF16, DType.F16}) {
                Int8Matrix scalar = Int8Quantizer.allocate(w, shape[1]);
                Int8Matrix vector = Int8Quantizer.allocate(w, shape[1]);
                Int8Quantizer.quantizeRows(w, scalar, 0, rows, scaleType, 0);
                Int8Quantizer.quantizeRows(w, vector, 0, rows, scaleType, bits);
                String where = cols + " cols, group " + shape[1] + ", " + scaleType + " scales";
                for (int i = 0; i < scalar.scales().length; i++) {
                    assertEquals(Float.floatToRawIntBits(scalar.scales()[i]), Float.floatToRawIntBits(vector.scales()[i]),
                            where + ": scale " + i);
                }
                assertEquals(-1L, scalar.weights().mismatch(vector.weights()), where + ": first differing weight");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("widths")
    void bf16RowsWidenAndQuantizeAsTheScalarPathDoes(int bits) {
        Random random = new Random(29);
        for (int[] shape : new int[][]{{7, 7}, {36, 12}, {96, 32}, {1030, 1030}}) {
            int rows = 5;
            int cols = shape[0];
            MemorySegment data = Arena.ofAuto().allocate(2L * rows * cols + 2, 64).asSlice(2, 2L * rows * cols);
            for (long i = 0; i < (long) rows * cols; i++) { // every bf16 bit pattern but NaN and infinity
                short bits16 = (short) random.nextInt();
                data.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (bits16 & 0x7F80) == 0x7F80 ? 0 : bits16);
            }
            Tensor w = new Tensor("w", data, DType.BF16, rows, cols);
            float[] expected = new float[cols], actual = new float[cols];
            short[] halves = new short[cols];
            for (int r = 0; r < rows; r++) {
                Int8Quantizer.readRow(w, r, expected, halves);
                Int8Decode.forBits(bits).readRow(w, r, actual, halves);
                assertArrayEquals(expected, actual, cols + " cols, row " + r);
            }
            Int8Matrix scalar = Int8Quantizer.allocate(w, shape[1]);
            Int8Matrix vector = Int8Quantizer.allocate(w, shape[1]);
            Int8Quantizer.quantizeRows(w, scalar, 0, rows, DType.F32, 0);
            Int8Quantizer.quantizeRows(w, vector, 0, rows, DType.F32, bits);
            assertEquals(-1L, scalar.weights().mismatch(vector.weights()), cols + " cols: first differing weight");
        }
    }

    static Tensor randomTensor(String name, int rows, int cols, Random random) {
        long count = (long) rows * cols;
        MemorySegment data = Arena.ofAuto().allocate(count * 4 + 3, 64).asSlice(1, count * 4);
        for (long i = 0; i < count; i++) {
            data.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4 * i, random.nextFloat() * 2 - 1);
        }
        return new Tensor(name, data, DType.F32, rows, cols);
    }
}
