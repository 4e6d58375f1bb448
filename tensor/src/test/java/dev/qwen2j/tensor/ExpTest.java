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

    /** Softmax's cheaper clamp changes no bit anywhere up to the upper clamp: −∞, NaN, the low edge, 0 and above. */
    @Test
    void expOfNonPositiveHasTheBitsOfExp() {
        Random random = new Random(7);
        float[] x = new float[4096 * L];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(-100, 88.37626);
        }
        float[] edges = {Float.NEGATIVE_INFINITY, Float.NaN, -87.33654f, Math.nextDown(-87.33654f), Math.nextUp(-87.33654f),
                -0f, 0f, Float.MIN_VALUE, -Float.MIN_VALUE, 88.37626f};
        System.arraycopy(edges, 0, x, 0, edges.length);
        for (int i = 0; i < x.length; i += L) {
            FloatVector v = FloatVector.fromArray(VectorKernels.F, x, i);
            float[] expected = VectorKernels.exp(v).toArray();
            float[] actual = VectorKernels.expOfNonPositive(v).toArray();
            for (int j = 0; j < L; j++) {
                assertEquals(Float.floatToRawIntBits(expected[j]), Float.floatToRawIntBits(actual[j]), "exp(" + x[i + j] + ")");
            }
        }
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
