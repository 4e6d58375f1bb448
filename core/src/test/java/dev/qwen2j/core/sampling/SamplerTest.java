package dev.qwen2j.core.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SamplerTest {

    private static final int[] NONE = new int[0];
    private static final int DRAWS = 200_000;

    private static SamplingParams params(float temperature, int topK, float topP, float minP) {
        return new SamplingParams(temperature, topK, topP, minP, 1f, 0f, 0f);
    }

    /** Logits whose softmax is exactly {@code probabilities}. */
    private static float[] logitsOf(double... probabilities) {
        float[] logits = new float[probabilities.length];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = probabilities[i] == 0 ? Float.NEGATIVE_INFINITY : (float) Math.log(probabilities[i]);
        }
        return logits;
    }

    /** Empirical frequencies of {@link #DRAWS} draws from a fresh copy of {@code logits} each time. */
    private static double[] frequencies(SamplingParams params, float[] logits) {
        Sampler sampler = new Sampler(params, 42, logits.length);
        double[] counts = new double[logits.length];
        float[] scratch = new float[logits.length];
        for (int i = 0; i < DRAWS; i++) {
            System.arraycopy(logits, 0, scratch, 0, logits.length);
            counts[sampler.sample(scratch, NONE, 0)]++;
        }
        for (int i = 0; i < counts.length; i++) {
            counts[i] /= DRAWS;
        }
        return counts;
    }

    /** Within 5 standard errors of a binomial proportion at {@link #DRAWS} draws; zero must be exactly zero. */
    private static void assertDistribution(double[] expected, double[] actual) {
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] == 0) {
                assertEquals(0, actual[i], "token " + i + " must never be drawn; got " + Arrays.toString(actual));
            } else {
                double tolerance = 5 * Math.sqrt(expected[i] * (1 - expected[i]) / DRAWS);
                assertEquals(expected[i], actual[i], tolerance, "token " + i + ": " + Arrays.toString(actual));
            }
        }
    }

    @Test
    void greedyTakesTheFirstLargestLogit() {
        Sampler sampler = new Sampler(SamplingParams.GREEDY, 1, 5);
        assertEquals(2, sampler.sample(new float[] {0f, 1f, 3f, 3f, -2f}, NONE, 0));
        assertEquals(2, sampler.sample(new float[] {Float.NEGATIVE_INFINITY, Float.NaN, -5f, -6f, -7f}, NONE, 0));
    }

    @Test
    void temperatureOneSamplesTheSoftmax() {
        assertDistribution(new double[] {1 / 6.0, 2 / 6.0, 3 / 6.0},
                frequencies(params(1f, 0, 1f, 0f), logitsOf(1 / 6.0, 2 / 6.0, 3 / 6.0)));
    }

    @Test
    void temperatureHalfSquaresTheProbabilities() {
        // p_i^(1/T) renormalized: 1, 4, 9 over 14
        assertDistribution(new double[] {1 / 14.0, 4 / 14.0, 9 / 14.0},
                frequencies(params(0.5f, 0, 1f, 0f), logitsOf(1 / 6.0, 2 / 6.0, 3 / 6.0)));
    }

    @Test
    void topKKeepsTheKLargestAndRenormalizes() {
        assertDistribution(new double[] {0, 0, 3 / 7.0, 4 / 7.0},
                frequencies(params(1f, 2, 1f, 0f), logitsOf(0.1, 0.2, 0.3, 0.4)));
    }

    @Test
    void topKKeepsTiesWithTheKthValueAsTransformersDoes() {
        assertDistribution(new double[] {0.5, 0.5, 0},
                frequencies(params(1f, 1, 1f, 0f), new float[] {2f, 2f, 1f}));
    }

    @Test
    void topKLargerThanTheVocabularyIsOff() {
        assertDistribution(new double[] {0.25, 0.75},
                frequencies(params(1f, 10, 1f, 0f), logitsOf(0.25, 0.75)));
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        float[] logits = logitsOf(0.5, 0.3, 0.15, 0.05);
        assertDistribution(new double[] {5 / 8.0, 3 / 8.0, 0, 0}, frequencies(params(1f, 0, 0.75f, 0f), logits));
        assertDistribution(new double[] {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0},
                frequencies(params(1f, 0, 0.9f, 0f), logits));
        assertDistribution(new double[] {0.5, 0.3, 0.15, 0.05}, frequencies(params(1f, 0, 0.99f, 0f), logits));
    }

    @Test
    void topPAlwaysKeepsTheMostLikelyToken() {
        assertDistribution(new double[] {0, 1, 0, 0},
                frequencies(params(1f, 0, 0.01f, 0f), logitsOf(0.2, 0.4, 0.2, 0.2)));
        // two tokens, tiny p: the candidate pre-filter must not drop the top token
        assertDistribution(new double[] {0, 1}, frequencies(params(1f, 0, 0.1f, 0f), logitsOf(0.45, 0.55)));
    }

    @Test
    void topPAppliesAfterTopK() {
        // top-k 3 leaves 0.4, 0.3, 0.2 (renormalized 4/9, 3/9, 2/9); top-p 0.7 then keeps 4/9 + 3/9 = 7/9 ≥ 0.7
        assertDistribution(new double[] {4 / 7.0, 3 / 7.0, 0, 0},
                frequencies(params(1f, 3, 0.7f, 0f), logitsOf(0.4, 0.3, 0.2, 0.1)));
    }

    @Test
    void minPIsRelativeToTheTopProbability() {
        // threshold 0.2 × 0.5 = 0.1: 0.05 goes
        assertDistribution(new double[] {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0},
                frequencies(params(1f, 0, 1f, 0.2f), logitsOf(0.5, 0.3, 0.15, 0.05)));
        assertDistribution(new double[] {1, 0, 0, 0},
                frequencies(params(1f, 0, 1f, 1f), logitsOf(0.5, 0.3, 0.15, 0.05)));
    }

    /** transformers' TopPLogitsWarper, literally: ascending sort, softmax, cumsum, drop cumsum ≤ 1 − p. */
    private static boolean[] referenceTopP(float[] logits, float topP) {
        int n = logits.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(logits[a], logits[b]));
        double max = Arrays.stream(order).mapToDouble(i -> logits[i]).max().orElseThrow();
        double total = 0;
        for (float l : logits) {
            total += Math.exp(l - max);
        }
        boolean[] kept = new boolean[n];
        double cumulative = 0;
        for (int r = 0; r < n; r++) {
            cumulative += Math.exp(logits[order[r]] - max) / total;
            kept[order[r]] = !(cumulative <= 1 - topP) || r == n - 1;
        }
        return kept;
    }

    @Test
    void topPMatchesTransformersOnALargeVocabulary() {
        Random random = new Random(7);
        int vocab = 5000;
        for (float topP : new float[] {0.1f, 0.5f, 0.8f, 0.9f, 0.95f}) {
            float[] logits = new float[vocab];
            for (int i = 0; i < vocab; i++) {
                logits[i] = (float) (random.nextGaussian() * 3);
            }
            boolean[] expected = referenceTopP(logits, topP);
            Sampler sampler = new Sampler(params(1f, 0, topP, 0f), 1, vocab);
            sampler.sample(logits.clone(), NONE, 0);
            float[] weights = sampler.lastWeights();
            int keptCount = 0;
            for (int i = 0; i < vocab; i++) {
                assertEquals(expected[i], weights[i] > 0f, "top-p " + topP + ", token " + i);
                keptCount += expected[i] ? 1 : 0;
            }
            assertTrue(keptCount > 1 && keptCount < vocab, "the case should cut somewhere: " + keptCount);
        }
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeOncePerDistinctToken() {
        Sampler sampler = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 2f, 0f, 0f), 1, 4);
        float[] logits = {2f, -1f, 3f, 0.5f};
        int next = sampler.sample(logits, new int[] {0, 0, 1, 0, 2}, 5);
        assertArrayEquals(new float[] {1f, -2f, 1.5f, 0.5f}, logits);
        assertEquals(2, next);
    }

    @Test
    void repetitionPenaltyChangesTheGreedyChoice() {
        Sampler sampler = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 1.3f, 0f, 0f), 1, 3);
        assertEquals(1, sampler.sample(new float[] {2f, 1.9f, -1f}, new int[] {0}, 1));
        assertEquals(0, sampler.sample(new float[] {2f, 1.9f, -1f}, new int[] {2}, 1));
    }

    @Test
    void presenceAndFrequencyPenaltiesCountGeneratedTokensOnly() {
        SamplingParams penalties = new SamplingParams(0f, 0, 1f, 0f, 1f, 0.25f, 0.5f);
        int[] tokens = {0, 3, 1, 1, 2};
        float[] logits = {1f, 1f, 1f, 1f};
        new Sampler(penalties, 1, 4).sample(logits, tokens, 5, 2); // prompt = 0, 3
        assertArrayEquals(new float[] {1f, 1f - 1f - 0.25f, 1f - 0.5f - 0.25f, 1f}, logits);

        float[] all = {1f, 1f, 1f, 1f};
        new Sampler(penalties, 1, 4).sample(all, tokens, 5); // everything counts as generated
        assertArrayEquals(new float[] {0.25f, -0.25f, 0.25f, 0.25f}, all);
    }

    @Test
    void penaltiesAreFreshOnEveryCall() {
        Sampler sampler = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 2f, 1f, 1f), 1, 3);
        for (int call = 0; call < 3; call++) {
            float[] logits = {4f, 4f, 4f};
            sampler.sample(logits, new int[] {1, 1}, 2, 0);
            assertArrayEquals(new float[] {4f, 2f - 2f - 1f, 4f}, logits, "call " + call);
        }
    }

    @Test
    void sameSeedSameTokensDifferentSeedDifferentTokens() {
        SamplingParams p = new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1.1f, 0f, 0f);
        Random random = new Random(3);
        float[][] rows = new float[64][1000];
        for (float[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) random.nextGaussian() * 2;
            }
        }
        assertArrayEquals(run(p, 123, rows), run(p, 123, rows));
        assertNotEquals(Arrays.toString(run(p, 123, rows)), Arrays.toString(run(p, 124, rows)));
    }

    private static int[] run(SamplingParams p, long seed, float[][] rows) {
        Sampler sampler = new Sampler(p, seed, rows[0].length);
        int[] tokens = new int[rows.length];
        for (int t = 0; t < rows.length; t++) {
            tokens[t] = sampler.sample(rows[t].clone(), tokens, t);
        }
        return tokens;
    }

    @Test
    void samplingAllocatesNothingPerToken() {
        int vocab = 151_936;
        SamplingParams p = new SamplingParams(0.7f, 20, 0.8f, 0.05f, 1.05f, 0.1f, 0.1f);
        Sampler sampler = new Sampler(p, 5, vocab);
        float[] source = new float[vocab];
        Random random = new Random(5);
        for (int i = 0; i < vocab; i++) {
            source[i] = (float) random.nextGaussian() * 4;
        }
        float[] logits = new float[vocab];
        int[] previous = new int[256];
        for (int i = 0; i < previous.length; i++) {
            previous[i] = random.nextInt(vocab);
        }
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long threadId = Thread.currentThread().threadId();
        for (int warm = 0; warm < 200; warm++) {
            System.arraycopy(source, 0, logits, 0, vocab);
            sampler.sample(logits, previous, previous.length, 100);
        }
        long before = threads.getThreadAllocatedBytes(threadId);
        for (int call = 0; call < 100; call++) {
            System.arraycopy(source, 0, logits, 0, vocab);
            sampler.sample(logits, previous, previous.length, 100);
        }
        long allocated = threads.getThreadAllocatedBytes(threadId) - before;
        assertTrue(allocated < 100, "allocated " + allocated + " bytes in 100 calls");
    }

    @Test
    void brokenLogitsFailClearly() {
        var greedy = new Sampler(SamplingParams.GREEDY, 1, 2);
        assertThrows(IllegalStateException.class, () -> greedy.sample(new float[] {Float.NaN, Float.NaN}, NONE, 0));
        var sampling = new Sampler(SamplingParams.ofTemperature(1f), 1, 2);
        assertThrows(IllegalStateException.class, () -> sampling.sample(new float[] {Float.NaN, 1f}, NONE, 0));
        assertThrows(IllegalStateException.class,
                () -> sampling.sample(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, NONE, 0));
        assertThrows(IllegalArgumentException.class, () -> sampling.sample(new float[1], NONE, 0));
        var penalized = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 1.2f, 0f, 0f), 1, 2);
        var error = assertThrows(IllegalArgumentException.class,
                () -> penalized.sample(new float[2], new int[] {5}, 1));
        assertTrue(error.getMessage().contains("5"), error.getMessage());
    }

    @Test
    void invalidParametersNameTheField() {
        assertMessage("temperature", () -> new SamplingParams(-1f, 0, 1f, 0f, 1f, 0f, 0f));
        assertMessage("temperature", () -> new SamplingParams(Float.NaN, 0, 1f, 0f, 1f, 0f, 0f));
        assertMessage("topK", () -> new SamplingParams(1f, -1, 1f, 0f, 1f, 0f, 0f));
        assertMessage("topP", () -> new SamplingParams(1f, 0, 0f, 0f, 1f, 0f, 0f));
        assertMessage("topP", () -> new SamplingParams(1f, 0, 1.5f, 0f, 1f, 0f, 0f));
        assertMessage("minP", () -> new SamplingParams(1f, 0, 1f, -0.1f, 1f, 0f, 0f));
        assertMessage("repetitionPenalty", () -> new SamplingParams(1f, 0, 1f, 0f, 0f, 0f, 0f));
        assertMessage("presencePenalty", () -> new SamplingParams(1f, 0, 1f, 0f, 1f, Float.NaN, 0f));
        assertMessage("frequencyPenalty", () -> new SamplingParams(1f, 0, 1f, 0f, 1f, 0f, Float.POSITIVE_INFINITY));
        assertMessage("vocabSize", () -> new Sampler(SamplingParams.GREEDY, 1, 0));
    }

    private static void assertMessage(String field, org.junit.jupiter.api.function.Executable executable) {
        var error = assertThrows(IllegalArgumentException.class, executable);
        assertTrue(error.getMessage().startsWith(field + " "), error.getMessage());
    }

    @Test
    void heapSortSortsAscending() {
        Random random = new Random(11);
        for (int n : new int[] {0, 1, 2, 3, 17, 1000}) {
            long[] values = random.longs(n + 5).toArray();
            long[] expected = Arrays.copyOf(values, n);
            Arrays.sort(expected);
            Sampler.heapSort(values, n);
            assertArrayEquals(expected, Arrays.copyOf(values, n), "n = " + n);
        }
    }

    @Test
    void frequencyAloneAndPresenceAloneEachApply() {
        int[] tokens = {2, 0, 0, 1}; // prompt = 2; generated 0, 0, 1
        float[] frequency = {1f, 1f, 1f};
        new Sampler(new SamplingParams(0f, 0, 1f, 0f, 1f, 0f, 0.5f), 1, 3).sample(frequency, tokens, 4, 1);
        assertArrayEquals(new float[] {1f - 2 * 0.5f, 1f - 0.5f, 1f}, frequency);

        float[] presence = {1f, 1f, 1f};
        new Sampler(new SamplingParams(0f, 0, 1f, 0f, 1f, 0.25f, 0f), 1, 3).sample(presence, tokens, 4, 1);
        assertArrayEquals(new float[] {1f - 0.25f, 1f - 0.25f, 1f}, presence);
    }

    @Test
    void aPreviousTokenEqualToTheVocabularySizeIsRejected() {
        // logits longer than the vocabulary (lm_head rows may be padded): the id must still be checked against it
        var penalized = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 1.2f, 0f, 0f), 1, 2);
        var error = assertThrows(IllegalArgumentException.class,
                () -> penalized.sample(new float[4], new int[] {2}, 1));
        assertTrue(error.getMessage().contains("2"), error.getMessage());
        // the last valid id is accepted; logits past the vocabulary are never chosen
        assertEquals(1, penalized.sample(new float[] {0f, 1f, 5f, 5f}, new int[] {1}, 1));
    }

    @Test
    void topPAtExactlyTheBoundaryKeepsWhatTransformersKeeps() {
        // weights 1, 1/2, 1/2 exactly (probabilities 1/2, 1/4, 1/4): transformers drops the ascending cumsum
        // ≤ 1 − 0.75 = 1/4, i.e. one of the quarter tokens, so the nucleus reaches exactly 0.75 with two tokens.
        float quarter = (float) Math.log(0.5);
        Sampler sampler = new Sampler(params(1f, 0, 0.75f, 0f), 1, 3);
        sampler.sample(new float[] {0f, quarter, quarter}, NONE, 0);
        float[] weights = sampler.lastWeights();
        assertArrayEquals(new float[] {1f, 0.5f, 0f}, weights, "kept (lower index first among equals)");
    }

    @Test
    void topKKeepsTheKLargestForEveryKOnRandomLogits() {
        Random random = new Random(13);
        for (int k = 1; k <= 17; k++) {
            for (int row = 0; row < 20; row++) {
                float[] logits = new float[64];
                for (int i = 0; i < logits.length; i++) {
                    logits[i] = random.nextInt(4) == 0 ? (float) random.nextInt(3) : (float) random.nextGaussian() * 3;
                }
                float[] sorted = logits.clone();
                Arrays.sort(sorted);
                float kth = sorted[sorted.length - k];
                Sampler sampler = new Sampler(params(1f, k, 1f, 0f), row, logits.length);
                sampler.sample(logits.clone(), NONE, 0);
                float[] weights = sampler.lastWeights();
                for (int i = 0; i < logits.length; i++) {
                    assertEquals(logits[i] >= kth, weights[i] > 0f, "k " + k + " row " + row + " token " + i);
                }
            }
        }
    }

    @Test
    void theSamplerKeepsItsParameters() {
        SamplingParams p = new SamplingParams(0.7f, 5, 0.9f, 0.1f, 1.1f, 0.2f, 0.3f);
        assertSame(p, new Sampler(p, 1, 10).params());
    }
}
