package dev.qwen2j.model;

import dev.qwen2j.core.config.RopeScaling;
import dev.qwen2j.tensor.RopeTable;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** RoPE frequencies against values worked out by hand from transformers' formulas (head dim 8 or 16, theta 1e4). */
class RopeFrequenciesTest {

    private static final float RELATIVE = 1e-6f;

    @Test
    void defaultIsOneOverThetaToTheTwoIOverD() {
        // 10000^(0, 1/4, 1/2, 3/4) = 1, 10, 100, 1000
        assertClose(new float[] {1f, 0.1f, 0.01f, 0.001f}, RopeFrequencies.defaultInvFreq(10000, 8));
    }

    @Test
    void linearDividesByTheFactor() {
        assertClose(new float[] {0.25f, 0.025f, 0.0025f, 0.00025f}, RopeFrequencies.linear(10000, 8, 4));
    }

    @Test
    void dynamicNtkIsDefaultWithinTheTrainedLength() {
        assertClose(RopeFrequencies.defaultInvFreq(10000, 8), RopeFrequencies.dynamicNtk(10000, 8, 2, 2048, 100));
        assertClose(RopeFrequencies.defaultInvFreq(10000, 8), RopeFrequencies.dynamicNtk(10000, 8, 2, 2048, 2048));
    }

    @Test
    void dynamicNtkGrowsTheBaseBeyondIt() {
        // base = 1e4 · (2·4096/2048 − 1)^(8/6) = 1e4 · 3^(4/3); base^(1/4) = 10·3^(1/3), base^(1/2) = 100·3^(2/3),
        // base^(3/4) = 1000·3
        float[] expected = {1f, (float) (1 / (10 * Math.cbrt(3))), (float) (1 / (100 * Math.cbrt(9))), 1f / 3000};
        assertClose(expected, RopeFrequencies.dynamicNtk(10000, 8, 2, 2048, 4096));
    }

    @Test
    void yarnRampsFromExtrapolationToInterpolation() {
        // dim 16, factor 4, original length 64: correction dims are 16·ln(64/(32·2π))/(2·ln 1e4) = −0.99 → low 0 and
        // 16·ln(64/(1·2π))/(2·ln 1e4) = 2.02 → high 3. Pair i keeps (1 − i/3) of its own frequency for i < 3.
        RopeScaling scaling = new RopeScaling("yarn", 4.0, 64, null, null, null, null, null);
        RopeTable table = RopeFrequencies.yarn(10000, 16, scaling, 4096);

        float[] own = RopeFrequencies.defaultInvFreq(10000, 16);
        float[] expected = new float[8];
        for (int i = 0; i < 8; i++) {
            float ramp = Math.min(i / 3f, 1f);
            expected[i] = own[i] / 4 * ramp + own[i] * (1 - ramp);
        }
        assertClose(expected, table.invFreq());
        assertEquals(1f, table.invFreq()[0]);
        assertEquals(0.0025f, table.invFreq()[4], 0.0025f * RELATIVE); // 1 / (4 · 10000^(1/2))
        assertEquals(0.1 * Math.log(4) + 1, table.attentionScaling(), 1e-6);
    }

    @Test
    void yarnTakesTheAttentionFactorAndMscalesFromTheConfig() {
        RopeScaling given = new RopeScaling("yarn", 4.0, 64, null, null, null, null, 0.5);
        assertEquals(0.5f, RopeFrequencies.yarn(10000, 16, given, 4096).attentionScaling());

        RopeScaling mscales = new RopeScaling("yarn", 4.0, 64, null, null, 2.0, 1.0, null);
        double expected = (0.2 * Math.log(4) + 1) / (0.1 * Math.log(4) + 1);
        assertEquals(expected, RopeFrequencies.yarn(10000, 16, mscales, 4096).attentionScaling(), 1e-6);
    }

    @Test
    void yarnWithoutOriginalLengthUsesMaxPositions() {
        RopeScaling noOriginal = new RopeScaling("yarn", 4.0, 0, null, null, null, null, null);
        RopeScaling original = new RopeScaling("yarn", 4.0, 64, null, null, null, null, null);
        assertArrayEquals(RopeFrequencies.yarn(10000, 16, original, 64).invFreq(),
                RopeFrequencies.yarn(10000, 16, noOriginal, 64).invFreq());
    }

    private static void assertClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], Math.abs(expected[i]) * RELATIVE, "invFreq[" + i + "]");
        }
    }
}
