package dev.qwen2j.tensor;

import dev.qwen2j.core.safetensors.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linear maps: the vector backend at every width (2 threads, so chunks split parts) against the scalar one, and the scalar
 * one against a double-precision sum. Tolerance: both F32 results sum the same n products in different orders;
 * recursive summation errs by at most γ_n·Σ|w·x| with γ_n ≈ n·2⁻²⁴, so two of them differ by at most
 * 2·n·2⁻²⁴·Σ|w·x| (+ the bias, added once: one more rounding). A wrong index breaks this by orders of magnitude.
 */
class LinearTest {

    private static final CpuBackend SCALAR = CpuBackend.scalar(1);
    private static final double U = Math.ulp(1f) / 2;

    @AfterAll
    static void close() {
        SCALAR.close();
    }

    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void vectorMatchesScalarOnOddShapes(int bits) {
        CpuBackend backend = Widths.vector(bits);
        Random random = new Random(42);
        int[] colsChoices = {1, 7, 8, 9, 17, 31, 64, 100, 513, 1030};
        int[] rowsChoices = {1, 3, 5, 16, 17, 33, 67};
        int[] tokenChoices = {1, 1, 2, 3, 4, 5, 7, 8, 9, 17, 19}; // past 16 tokens BF16 is converted to F32 first
        for (DType dtype : new DType[]{DType.BF16, DType.F16, DType.F32}) {
            for (int trial = 0; trial < 25; trial++) {
                int cols = colsChoices[random.nextInt(colsChoices.length)];
                int tokens = tokenChoices[random.nextInt(tokenChoices.length)];
                int partCount = 1 + random.nextInt(3);
                boolean withBias = random.nextBoolean();
                List<Tensor> parts = new ArrayList<>();
                List<Tensor> biases = new ArrayList<>();
                for (int p = 0; p < partCount; p++) {
                    int rows = rowsChoices[random.nextInt(rowsChoices.length)];
                    parts.add(TestTensors.random("w" + p, dtype, rows, cols, random));
                    biases.add(withBias && p != 1 ? TestTensors.random("b" + p, dtype, 1, rows, random) : null);
                }
                check(backend, parts, withBias ? biases : null, tokens, random, dtype + " trial " + trial);
            }
            for (int cols : colsChoices) { // decode at every width's whole-vector remainders, whatever the draws
                check(backend, List.of(TestTensors.random("w", dtype, 5, cols, random)), null, 1, random, dtype + " decode " + cols);
            }
        }
    }

    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void prefillBlockLargerThanOneTile(int bits) {
        CpuBackend backend = Widths.vector(bits);
        // 10 tokens (BF16 read directly, not a multiple of 4 or 8) and 21 (converted to F32 first); a 2100-wide
        // input: three input tiles, the last one ragged; 37 rows: a full 32-row block, then 5 (two row pairs and a
        // single row)
        Random random = new Random(7);
        Tensor w = TestTensors.random("w", DType.BF16, 37, 2100, random);
        check(backend, List.of(w), null, 10, random, "big prefill, 10 tokens");
        check(backend, List.of(w), null, 21, random, "big prefill, 21 tokens");
    }

    /**
     * Prefill of a packed format (int8 in module quant) runs matmulPacked: blocks of rows dequantized to F32, then
     * the F32 micro-kernel. Here the "format" is a plain tensor behind {@link PackedMatrix}, so the expected sums
     * are those of the unpacked path. Decode (one token) runs the format's own kernels, so tokens ≥ 2.
     */
    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void packedPrefillMatchesTheExactSum(int bits) {
        CpuBackend backend = Widths.vector(bits);
        Random random = new Random(5);
        int[][] shapes = {{3, 7, 2}, {37, 100, 5}, {33, 1030, 4}, {5, 9, 9}}; // rows, cols, tokens
        for (int[] shape : shapes) {
            Tensor w = TestTensors.random("w", DType.BF16, shape[0], shape[1], random);
            Tensor other = TestTensors.random("w2", DType.BF16, 17, shape[1], random);
            Tensor bias = TestTensors.random("b", DType.F32, 1, shape[0], random);
            check(backend, List.of(w, other), java.util.Arrays.asList(bias, null), shape[2], random, true,
                    "packed " + shape[0] + "x" + shape[1]);
        }
    }

    /** The batch-invariant path's values, not only their independence from the neighbours (all zeros would be). */
    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void batchInvariantLinearMatchesTheExactSum(int bits) {
        CpuBackend backend = Widths.vector(bits);
        Random random = new Random(9);
        for (int tokens : new int[]{1, 3, 9}) {
            Tensor w = TestTensors.random("w", DType.BF16, 37, 1030, random);
            Tensor other = TestTensors.random("w2", DType.F32, 5, 1030, random);
            Tensor bias = TestTensors.random("b", DType.F32, 1, 37, random);
            check(backend, List.of(w, other), java.util.Arrays.asList(bias, null), tokens, random, false, true,
                    "batch invariant, " + tokens + " tokens");
        }
    }

    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void batchInvariantRowsDoNotDependOnTheirNeighbours(int bits) {
        CpuBackend backend = Widths.vector(bits);
        Random random = new Random(3);
        for (DType dtype : new DType[]{DType.BF16, DType.F16, DType.F32}) {
            // 1030 columns: two input tiles; 37 rows: row pairs and a single row
            Backend.LinearWeights w = backend.linear(List.of(TestTensors.random("w", dtype, 37, 1030, random)),
                    List.of(TestTensors.random("b", dtype, 1, 37, random)));
            int in = w.inFeatures();
            int out = w.outFeatures();
            float[] block = TestTensors.randomFloats(9 * in, random);
            float[] all = new float[9 * out];
            backend.linearBatchInvariant(w, block, all, 9);
            for (int tokens : new int[]{1, 2, 3, 4, 5}) {
                for (int t = 0; t < tokens; t++) { // row t of a block of `tokens` rows against row t of the 9
                    float[] few = new float[tokens * out];
                    backend.linearBatchInvariant(w, java.util.Arrays.copyOf(block, tokens * in), few, tokens);
                    for (int r = 0; r < out; r++) {
                        assertEquals(Float.floatToRawIntBits(all[t * out + r]), Float.floatToRawIntBits(few[t * out + r]),
                                dtype + ": row " + t + " of " + tokens + ", output " + r);
                    }
                }
            }
        }
    }

    private static void check(CpuBackend backend, List<Tensor> parts, List<Tensor> biases, int tokens, Random random, String what) {
        check(backend, parts, biases, tokens, random, false, what);
    }

    private static void check(CpuBackend backend, List<Tensor> parts, List<Tensor> biases, int tokens, Random random,
                              boolean packed, String what) {
        check(backend, parts, biases, tokens, random, packed, false, what);
    }

    /** {@code batchInvariant}: through {@link CpuBackend#linearBatchInvariant} (the blocked kernels) on both sides. */
    private static void check(CpuBackend backend, List<Tensor> parts, List<Tensor> biases, int tokens, Random random,
                              boolean packed, boolean batchInvariant, String what) {
        Backend.LinearWeights vectorWeights = packed ? backend.packedLinear(TensorAsPacked.of(parts), biases)
                : backend.linear(parts, biases);
        Backend.LinearWeights scalarWeights = packed ? SCALAR.packedLinear(TensorAsPacked.of(parts), biases)
                : SCALAR.linear(parts, biases);
        int in = vectorWeights.inFeatures();
        int out = vectorWeights.outFeatures();
        float[] x = TestTensors.randomFloats(tokens * in, random);
        float[] vectorY = new float[tokens * out];
        float[] scalarY = new float[tokens * out];
        if (batchInvariant) {
            backend.linearBatchInvariant(vectorWeights, x, vectorY, tokens);
            SCALAR.linearBatchInvariant(scalarWeights, x, scalarY, tokens);
        } else {
            backend.linear(vectorWeights, x, vectorY, tokens);
            SCALAR.linear(scalarWeights, x, scalarY, tokens);
        }
        for (int t = 0; t < tokens; t++) {
            int row = 0;
            for (int p = 0; p < parts.size(); p++) {
                Tensor w = parts.get(p);
                for (int r = 0; r < w.rows(); r++, row++) {
                    double exact = 0;
                    double magnitude = 0;
                    for (int k = 0; k < in; k++) {
                        double product = (double) TestTensors.element(w, (long) r * in + k) * x[t * in + k];
                        exact += product;
                        magnitude += Math.abs(product);
                    }
                    double bias = biases == null || biases.get(p) == null ? 0 : TestTensors.element(biases.get(p), r);
                    exact += bias;
                    magnitude += Math.abs(bias);
                    double bound = (in + 1) * U * magnitude + Float.MIN_NORMAL;
                    int i = t * out + row;
                    String where = what + " token " + t + " row " + row + " (in " + in + ")";
                    assertEquals(exact, scalarY[i], bound, "scalar vs exact, " + where);
                    assertEquals(scalarY[i], vectorY[i], 2 * bound, "vector vs scalar, " + where);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void rejectsMismatchedShapes(int bits) {
        CpuBackend backend = Widths.vector(bits);
        Random random = new Random(1);
        Tensor a = TestTensors.random("a", DType.F32, 4, 8, random);
        Tensor b = TestTensors.random("b", DType.F32, 4, 9, random);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.linear(List.of(a, b), null));
        assertTrue(e.getMessage().contains("b"), e.getMessage());
        Tensor i8 = new Tensor("q8", a.data(), DType.I8, 4, 8);
        assertThrows(IllegalArgumentException.class, () -> backend.linear(List.of(i8), null));
        Backend.LinearWeights weights = backend.linear(List.of(a), null);
        assertThrows(IllegalArgumentException.class, () -> backend.linear(weights, new float[7], new float[4], 1));
    }

    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void concurrentCallersGetTheirOwnResults(int bits) throws Exception {
        CpuBackend backend = Widths.vector(bits);
        Random random = new Random(3);
        Tensor w = TestTensors.random("w", DType.BF16, 300, 200, random);
        Backend.LinearWeights weights = backend.linear(List.of(w), null);
        int callers = 8;
        float[][] xs = new float[callers][];
        float[][] expected = new float[callers][];
        for (int c = 0; c < callers; c++) {
            xs[c] = TestTensors.randomFloats(200 * (1 + c % 3), random);
            expected[c] = new float[300 * (1 + c % 3)];
            backend.linear(weights, xs[c], expected[c], 1 + c % 3); // alone: the answer
        }
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < callers; c++) {
            int caller = c;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    float[] y = new float[expected[caller].length];
                    for (int repeat = 0; repeat < 10; repeat++) {
                        java.util.Arrays.fill(y, Float.NaN);
                        backend.linear(weights, xs[caller], y, 1 + caller % 3);
                        for (int i = 0; i < y.length; i++) {
                            // Same kernels and split; only reduceLanes may sum lanes in another order once the
                            // JIT compiles it (the interpreter adds sequentially): ~1e-6 here. Another caller's
                            // input or a missed chunk would be off by O(1).
                            assertEquals(expected[caller][i], y[i], 1e-4f, "caller " + caller + " output " + i);
                        }
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertTrue(failures.isEmpty(), () -> failures.getFirst().toString());
    }
}
