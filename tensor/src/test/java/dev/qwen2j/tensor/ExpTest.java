package dev.qwen2j.tensor;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vector e^x of softmax and SwiGLU ({@code VectorKernels.exp}, at the preferred width): within 2 ulp of
 * {@code Math.exp}, and the same bits as the same algorithm written lane by lane, both before and after C2 compiles
 * it (what {@code lanewise(EXP)} failed: its compiled stub rounds differently from its interpreted lanes).
 */
class ExpTest {

    private static final int L = VectorKernels.L;

    @Test
    void withinTwoUlpOfMathExpAndExactAtTheEnds() {
        Random random = new Random(5);
        float[] x = new float[200_000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextDouble(-87, 88.3)); // below: denormals, taken as 0; above: ∞ near the float range
        }
        float[] y = exp(x);
        for (int i = 0; i < x.length; i++) {
            float expected = (float) Math.exp(x[i]);
            assertTrue(Math.abs(y[i] - expected) <= 2 * Math.ulp(expected) && Float.isFinite(y[i]), "exp(" + x[i] + ") = " + y[i] + ", not " + expected);
        }
        float[] ends = exp(pad(Float.NEGATIVE_INFINITY, -1000f, -88f, 0f, 1f, 89f, Float.POSITIVE_INFINITY, Float.NaN));
        assertEquals(0f, ends[0]);
        assertEquals(0f, ends[1]);
        assertEquals(0f, ends[2]);
        assertEquals(1f, ends[3]);
        assertEquals((float) Math.E, ends[4], Math.ulp((float) Math.E));
        assertEquals(Float.POSITIVE_INFINITY, ends[5]);
        assertEquals(Float.POSITIVE_INFINITY, ends[6]);
        assertTrue(Float.isNaN(ends[7]));
    }

    @Test
    void sameBitsAsTheScalarAlgorithmBeforeAndAfterCompilation() {
        Random random = new Random(6);
        float[] x = new float[64 * L];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextGaussian() * 20);
        }
        assertSameBits(x, exp(x)); // first calls: interpreted or C1
        float[] warm = null;
        for (int round = 0; round < 3_000; round++) {
            warm = exp(x);
        }
        assertSameBits(x, warm);
    }

    /**
     * Softmax's e^x of x ≤ 0: close to {@code Math.exp} where a weight counts (2.5e-7 relative for x ≥ −10, 1.5e-6
     * to −87), exact at 0 (the row's maximum), 0 below −87 and for −∞ (masked slots), NaN kept; and the same bits as
     * its algorithm written lane by lane, before and after C2 compiles it.
     */
    @Test
    void softmaxExpIsCloseToExpAndRoundsTheSameInEveryTier() {
        Random random = new Random(7);
        float[] x = new float[4096 * L];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (i % 2 == 0 ? random.nextDouble(-10, 0) : random.nextDouble(-87, 0));
        }
        float[] edges = {0f, -0f, Float.NEGATIVE_INFINITY, Float.NaN, -87f, Math.nextDown(-87f), -1000f, -Float.MIN_VALUE};
        System.arraycopy(edges, 0, x, 0, edges.length);
        float[] first = softmaxExp(x);
        assertEquals(1f, first[0]);
        assertEquals(1f, first[1]);
        assertEquals(0f, first[2]);
        assertTrue(Float.isNaN(first[3]));
        assertEquals(Math.exp(-87), first[4], 1.5e-6 * Math.exp(-87));
        assertEquals(0f, first[5]);
        assertEquals(0f, first[6]);
        assertEquals(1f, first[7]);
        for (int i = edges.length; i < x.length; i++) {
            double expected = Math.exp(x[i]);
            double bound = (x[i] >= -10 ? 2.5e-7 : 1.5e-6) * expected;
            assertEquals(expected, first[i], bound, "softmaxExp(" + x[i] + ")");
        }
        float[] warm = null;
        for (int round = 0; round < 3_000; round++) {
            warm = softmaxExp(x);
        }
        for (int i = 0; i < x.length; i++) {
            int expected = Float.floatToRawIntBits(scalarSoftmaxExp(x[i]));
            assertEquals(expected, Float.floatToRawIntBits(first[i]), "first calls: softmaxExp(" + x[i] + ")");
            assertEquals(expected, Float.floatToRawIntBits(warm[i]), "compiled: softmaxExp(" + x[i] + ")");
        }
    }

    private static float[] softmaxExp(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += L) {
            VectorKernels.softmaxExp(FloatVector.fromArray(VectorKernels.F, x, i)).intoArray(y, i);
        }
        return y;
    }

    /** VectorKernels.softmaxExp for one lane, in the same operations. */
    private static float scalarSoftmaxExp(float x) {
        float round = 12583039f;
        float t = Math.fma(x, 1.44269504088896341f, round);
        float f = Math.fma(x, 1.44269504088896341f, round - t);
        float p = 1.535336188319500e-4f;
        p = Math.fma(p, f, 1.339887440266574e-3f);
        p = Math.fma(p, f, 9.618437357674640e-3f);
        p = Math.fma(p, f, 5.550332471162809e-2f);
        p = Math.fma(p, f, 2.402264791363012e-1f);
        p = Math.fma(p, f, 6.931472028550421e-1f);
        p = Math.fma(p, f, 1f);
        float y = p * Float.intBitsToFloat(Float.floatToRawIntBits(t) << 23);
        return x < -87f ? 0f : y;
    }

    private static void assertSameBits(float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToRawIntBits(scalarExp(x[i])), Float.floatToRawIntBits(y[i]), "exp(" + x[i] + ")");
        }
    }

    private static float[] exp(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += L) {
            VectorKernels.exp(FloatVector.fromArray(VectorKernels.F, x, i)).intoArray(y, i);
        }
        return y;
    }

    private static float[] pad(float... values) {
        float[] x = new float[(values.length + L - 1) / L * L];
        System.arraycopy(values, 0, x, 0, values.length);
        return x;
    }

    /** VectorKernels.exp for one lane, in the same operations. */
    private static float scalarExp(float x) {
        float c = Math.min(Math.max(x, -87.33654f), 88.37626f);
        float t = Math.fma(c, 1.44269504088896341f, 12582912f);
        float n = t - 12582912f;
        float r = Math.fma(n, -0.693359375f, c);
        r = Math.fma(n, 2.12194440e-4f, r);
        float p = 1.9875691500e-4f;
        p = Math.fma(p, r, 1.3981999507e-3f);
        p = Math.fma(p, r, 8.3334519073e-3f);
        p = Math.fma(p, r, 4.1665795894e-2f);
        p = Math.fma(p, r, 1.6666665459e-1f);
        p = Math.fma(p, r, 5.0000001201e-1f);
        float y = Math.fma(p, r * r, r) + 1f;
        float twoToN = Float.intBitsToFloat((Float.floatToRawIntBits(t) - (0x4B400000 - 127)) << 23);
        float e = y * twoToN;
        return x < -87.33654f ? 0f : x > 88.37626f ? Float.POSITIVE_INFINITY : e;
    }
}
