package dev.qwen2j.tensor;

import dev.qwen2j.core.safetensors.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** RMSNorm, SwiGLU, add, RoPE and embedding: vector (every width) against scalar, scalar against the math in double. */
class ElementwiseTest {

    private static final CpuBackend SCALAR = CpuBackend.scalar(1);
    private static final int[] SIZES = {1, 3, 7, 8, 9, 17, 64, 100, 896, 1031};

    @AfterAll
    static void close() {
        SCALAR.close();
    }

    /**
     * Tolerance 2e-4 relative: the sum of n ≤ 1031 squares errs by at most n·2⁻²⁴ ≈ 6e-5 relative in each
     * implementation (different orders), halved by the square root, plus a few roundings of the products.
     */
    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void rmsNorm(int bits) {
        CpuBackend backend = Widths.vector(bits);
        Random random = new Random(11);
        for (DType dtype : new DType[]{DType.BF16, DType.F16, DType.F32}) {
            for (int n : SIZES) {
                int tokens = 1 + random.nextInt(3);
                Tensor weight = TestTensors.random("norm", dtype, 1, n, random);
                float[] x = TestTensors.randomFloats(tokens * n, random);
                float[] vector = new float[tokens * n];
                float[] scalar = new float[tokens * n];
                backend.rmsNorm(x, weight, 1e-6f, vector, tokens);
                SCALAR.rmsNorm(x, weight, 1e-6f, scalar, tokens);
                for (int t = 0; t < tokens; t++) {
                    double squares = 0;
                    for (int i = 0; i < n; i++) {
                        squares += (double) x[t * n + i] * x[t * n + i];
                    }
                    double inverse = 1 / Math.sqrt(squares / n + 1e-6);
                    for (int i = 0; i < n; i++) {
                        double exact = x[t * n + i] * inverse * TestTensors.element(weight, i);
                        int j = t * n + i;
                        assertEquals(exact, scalar[j], 1e-4 * Math.abs(exact) + 1e-7, dtype + " n " + n + " scalar " + j);
                        assertEquals(scalar[j], vector[j], 2e-4 * Math.abs(scalar[j]) + 1e-7, dtype + " n " + n + " vector " + j);
                    }
                }
            }
        }
    }

    /**
     * Tolerance 1e-6 relative (about 8 ulps): the vector EXP is specified within 1 ulp of Math.exp's result,
     * and the add, divide and multiply that follow each round once.
     */
    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void swiGlu(int bits) {
        CpuBackend backend = Widths.vector(bits);
        Random random = new Random(12);
        for (int n : SIZES) {
            int tokens = 1 + random.nextInt(3);
            float[] gateUp = new float[2 * n * tokens];
            for (int i = 0; i < gateUp.length; i++) {
                gateUp[i] = (random.nextFloat() * 2 - 1) * 12; // reach into both tails of the sigmoid
            }
            float[] vector = new float[n * tokens];
            float[] scalar = new float[n * tokens];
            backend.swiGlu(gateUp, vector, n, tokens);
            SCALAR.swiGlu(gateUp, scalar, n, tokens);
            for (int t = 0; t < tokens; t++) {
                for (int i = 0; i < n; i++) {
                    double gate = gateUp[2 * n * t + i];
                    double exact = gate / (1 + Math.exp(-gate)) * gateUp[2 * n * t + n + i];
                    int j = n * t + i;
                    assertEquals(exact, scalar[j], 1e-6 * Math.abs(exact) + 1e-30, "scalar " + j);
                    assertEquals(scalar[j], vector[j], 1e-6 * Math.abs(scalar[j]) + 1e-30, "vector " + j);
                }
            }
        }
    }

    /** Exact: one addition per element, the same in both. */
    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void add(int bits) {
        CpuBackend backend = Widths.vector(bits);
        Random random = new Random(13);
        for (int n : SIZES) {
            float[] base = TestTensors.randomFloats(n + 5, random);
            float[] delta = TestTensors.randomFloats(n + 5, random);
            float[] vector = base.clone();
            float[] scalar = base.clone();
            backend.add(vector, delta, n);
            SCALAR.add(scalar, delta, n);
            assertArrayEquals(scalar, vector);
            for (int i = 0; i < n + 5; i++) {
                assertEquals(i < n ? base[i] + delta[i] : base[i], scalar[i]);
            }
        }
    }

    /**
     * RoPE against the rotate-half formula in double with the F32 angle transformers uses. Tolerance 1e-6
     * absolute for |x| ≤ 1: cos and sin rounded to F32 (2⁻²⁴ relative), then two products and a sum.
     */
    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void ropeRotatesHalves(int bits) {
        CpuBackend backend = Widths.vector(bits);
        Random random = new Random(14);
        int headDim = 64;
        int heads = 3;
        int stride = heads * headDim + 5;
        float[] invFreq = new float[headDim / 2];
        for (int i = 0; i < invFreq.length; i++) {
            invFreq[i] = (float) (1.0 / Math.pow(1_000_000.0, 2.0 * i / headDim));
        }
        RopeTable table = new RopeTable(invFreq, 1.25f);
        int tokens = 3;
        int start = 1000;
        float[] x = TestTensors.randomFloats(2 + tokens * stride, random);
        float[] rotated = x.clone();
        backend.rope(rotated, 2, stride, heads, tokens, start, table);
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < headDim / 2; i++) {
                    float angle = (float) (start + t) * invFreq[i];
                    int a = 2 + t * stride + h * headDim + i;
                    int b = a + headDim / 2;
                    double cos = Math.cos(angle) * 1.25;
                    double sin = Math.sin(angle) * 1.25;
                    assertEquals(x[a] * cos - x[b] * sin, rotated[a], 1e-6, "first half " + a);
                    assertEquals(x[b] * cos + x[a] * sin, rotated[b], 1e-6, "second half " + b);
                }
            }
            // the 5 floats between tokens stay untouched
            for (int g = 0; g < 5; g++) {
                int i = 2 + t * stride + heads * headDim + g;
                if (i < x.length) {
                    assertEquals(x[i], rotated[i]);
                }
            }
        }
    }

    /** Exact: embedding is a widening copy. */
    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void embedCopiesRows(int bits) {
        CpuBackend backend = Widths.vector(bits);
        Random random = new Random(15);
        for (DType dtype : new DType[]{DType.BF16, DType.F16, DType.F32}) {
            Tensor table = TestTensors.random("embed", dtype, 10, 13, random);
            float[] out = new float[3 * 13];
            backend.embed(table, new int[]{9, 0, 4}, 3, out);
            for (int i = 0; i < 13; i++) {
                assertEquals(TestTensors.element(table, 9 * 13 + i), out[i]);
                assertEquals(TestTensors.element(table, i), out[13 + i]);
                assertEquals(TestTensors.element(table, 4 * 13 + i), out[26 + i]);
            }
            assertThrows(IllegalArgumentException.class, () -> backend.embed(table, new int[]{10}, 1, out));
        }
    }

    /** Rounding to bf16 is to nearest, ties to even, as torch's {@code .to(torch.bfloat16)}. */
    @Test
    void bf16Rounding() {
        assertEquals(1f, Numbers.bf16ToFloat(Numbers.floatToBf16(1f)));
        float justAboveHalfway = Float.intBitsToFloat(0x3F80_8001);
        assertEquals(Float.intBitsToFloat(0x3F81_0000), Numbers.bf16ToFloat(Numbers.floatToBf16(justAboveHalfway)));
        float halfwayToEven = Float.intBitsToFloat(0x3F80_8000); // between 0x3F80 (even) and 0x3F81
        assertEquals(Float.intBitsToFloat(0x3F80_0000), Numbers.bf16ToFloat(Numbers.floatToBf16(halfwayToEven)));
        float halfwayToOdd = Float.intBitsToFloat(0x3F81_8000); // between 0x3F81 and 0x3F82 (even)
        assertEquals(Float.intBitsToFloat(0x3F82_0000), Numbers.bf16ToFloat(Numbers.floatToBf16(halfwayToOdd)));
        assertEquals(Float.POSITIVE_INFINITY, Numbers.bf16ToFloat(Numbers.floatToBf16(Float.MAX_VALUE)));
        assertEquals(true, Float.isNaN(Numbers.bf16ToFloat(Numbers.floatToBf16(Float.NaN))));
    }
}
