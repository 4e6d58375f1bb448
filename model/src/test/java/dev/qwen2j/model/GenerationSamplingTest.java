package dev.qwen2j.model;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Oracle test for sampling through {@link Model#generate}: the text must equal what an independent reference
 * implementation of the published formulas picks from the model's own raw logits (read from a session, step by
 * step, in double precision):
 * <ul>
 *   <li>transformers' {@code RepetitionPenaltyLogitsProcessor} over every token of {@code input_ids}, the prompt
 *   included: a seen token's logit is divided by the penalty when positive, multiplied when negative;</li>
 *   <li>vLLM's presence and frequency penalties over the generated tokens only: {@code logit -= frequency · count
 *   + presence · (count > 0)}, after the repetition penalty as vLLM's {@code apply_penalties} does;</li>
 *   <li>then transformers' warpers in its order: temperature, top-k (ties with the k-th kept), top-p (drop the
 *   ascending prefix whose cumulative probability is ≤ 1 − p, keep at least one), min-p (drop tokens below
 *   {@code min_p ×} the top probability), and one draw: the first token whose cumulative probability exceeds a
 *   uniform number from {@code SplittableRandom(seed)}, which is qwen2j's documented inverse-CDF draw.</li>
 * </ul>
 * With tied embeddings a random model's most likely next token is the one it just read, so the greedy cases below
 * make the penalties decide the argmax: each first checks that its case tells the correct rule from the planted
 * mistake (so the test cannot pass vacuously), then that qwen2j follows the correct rule.
 */
class GenerationSamplingTest {

    /** Ids 151665.. are padding rows of the Qwen vocabulary: a stop id no run reaches. */
    static final int UNREACHABLE_STOP = 151935;

    @TempDir
    static Path dir;
    static Model model;

    @BeforeAll
    static void load() throws IOException {
        Path folder = RandomQwen2Checkpoint.builder().seed(21).maxPositionEmbeddings(512).write(dir.resolve("model"));
        model = Model.load(folder, ModelOptions.builder().threads(2).contextLength(256).build());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** The reference rule: penalties, then (unless greedy) the warpers. */
    record Rule(double repetition, double presence, double frequency, boolean penalizePrompt, boolean countPrompt,
                double temperature, int topK, double topP, double minP) {

        static Rule greedy(double repetition, double presence, double frequency) {
            return new Rule(repetition, presence, frequency, true, false, 0, 0, 1, 0);
        }

        Rule planted(boolean penalizePrompt, boolean countPrompt) {
            return new Rule(repetition, presence, frequency, penalizePrompt, countPrompt, temperature, topK, topP, minP);
        }

        GenerationOptions.Builder options() {
            return GenerationOptions.builder().chat(false).temperature(temperature).topK(topK).topP(topP).minP(minP)
                    .repetitionPenalty(repetition).presencePenalty(presence).frequencyPenalty(frequency)
                    .stopTokenIds(UNREACHABLE_STOP);
        }

        int pick(float[] raw, int[] prompt, List<Integer> generated, SplittableRandom random) {
            double[] z = penalized(raw, prompt, generated);
            return temperature == 0 ? argmax(z) : draw(probabilities(z), random).id();
        }

        /** The raw logits after the penalties. */
        double[] penalized(float[] raw, int[] prompt, List<Integer> generated) {
            double[] z = new double[raw.length];
            for (int i = 0; i < z.length; i++) {
                z[i] = raw[i];
            }
            List<Integer> seen = new ArrayList<>(generated);
            if (penalizePrompt) {
                for (int id : prompt) {
                    seen.add(id);
                }
            }
            for (int id : seen.stream().distinct().toList()) {
                z[id] = z[id] < 0 ? z[id] * repetition : z[id] / repetition;
            }
            Map<Integer, Integer> counts = new HashMap<>();
            for (int id : generated) {
                counts.merge(id, 1, Integer::sum);
            }
            if (countPrompt) {
                for (int id : prompt) {
                    counts.merge(id, 1, Integer::sum);
                }
            }
            counts.forEach((id, n) -> z[id] -= frequency * n + presence);
            return z;
        }

        private static int argmax(double[] z) {
            int best = 0;
            for (int i = 1; i < z.length; i++) {
                if (z[i] > z[best]) {
                    best = i;
                }
            }
            return best;
        }

        /** The probabilities a sampled rule (temperature > 0) draws from, given the penalized logits (overwritten). */
        double[] probabilities(double[] z) {
            for (int i = 0; i < z.length; i++) {
                z[i] /= temperature;
            }
            if (topK > 0) {
                double[] descending = z.clone();
                Arrays.sort(descending);
                double kth = descending[descending.length - topK];
                for (int i = 0; i < z.length; i++) {
                    if (z[i] < kth) {
                        z[i] = Double.NEGATIVE_INFINITY;
                    }
                }
            }
            double[] p = softmax(z);
            if (topP < 1) {
                // Ascending probabilities: the prefix whose cumulative sum stays <= 1 - topP goes (never the top).
                double[] ascending = p.clone();
                Arrays.sort(ascending);
                double cumulative = 0;
                double cut = -1;
                for (int r = 0; r < ascending.length - 1; r++) {
                    cumulative += ascending[r];
                    if (cumulative <= 1 - topP) {
                        cut = ascending[r];
                    }
                }
                for (int i = 0; i < z.length; i++) {
                    if (p[i] <= cut) {
                        z[i] = Double.NEGATIVE_INFINITY;
                    }
                }
                p = softmax(z);
            }
            if (minP > 0) {
                double top = Arrays.stream(p).max().orElseThrow();
                for (int i = 0; i < z.length; i++) {
                    if (p[i] < minP * top) {
                        z[i] = Double.NEGATIVE_INFINITY;
                    }
                }
                p = softmax(z);
            }
            return p;
        }

        /**
         * The first token whose cumulative probability exceeds a uniform number, and that number's distance from the
         * nearest edge of the token's interval.
         */
        static Draw draw(double[] p, SplittableRandom random) {
            double u = random.nextDouble();
            double cumulative = 0;
            int last = 0;
            for (int i = 0; i < p.length; i++) {
                if (p[i] > 0) {
                    double before = cumulative;
                    cumulative += p[i];
                    last = i;
                    if (cumulative > u) {
                        return new Draw(i, Math.min(u - before, cumulative - u));
                    }
                }
            }
            return new Draw(last, Double.POSITIVE_INFINITY);
        }

        private static double[] softmax(double[] z) {
            double max = Arrays.stream(z).max().orElseThrow();
            double[] p = new double[z.length];
            double sum = 0;
            for (int i = 0; i < z.length; i++) {
                p[i] = Math.exp(z[i] - max);
                sum += p[i];
            }
            for (int i = 0; i < z.length; i++) {
                p[i] /= sum;
            }
            return p;
        }
    }

    /** A reference pick, and the distance of its uniform number from the nearest edge of the token's interval. */
    record Draw(int id, double margin) {
    }

    /**
     * Draws this close to an edge of a token's cumulative interval are decided by the logits' last bits. A session
     * (whose logits the reference reads) and {@link Model#generate} (the batch engine) round differently, since their
     * kernels sum in different orders: about 1e-6 of a logit, which moves a cumulative probability by at most about
     * 1e-5 at temperature 0.1. (The one such draw seen in 200 seeded cases here fell 8e-10 from its edge.)
     */
    static final double DRAW_MARGIN = 1e-5;

    /**
     * {@link Model#generate}'s tokens for {@code prompt}, replayed through the reference rule on a session's logits
     * (teacher-forced on generate's own history): every token must be the reference's pick, except at a draw within
     * {@link #DRAW_MARGIN} of an edge of the picked token's interval, where generate's token must be the neighbour on
     * that side (the next token of nonzero probability in id order, the draw's order).
     */
    static void assertFollowsTheReference(String prompt, Rule rule, int tokens, long seed) {
        List<Integer> sampled = new ArrayList<>();
        model.generate(prompt, rule.options().maxTokens(tokens).seed(seed).logprobs(1).build(), new GenerationListener() {
            @Override
            public void onText(String text) {
            }

            @Override
            public void onLogprobs(TokenLogprobs logprobs) {
                sampled.add(logprobs.sampled().id());
            }
        });
        assertTrue(rule.temperature() > 0, rule + ": a greedy rule has no draw to replay");
        assertEquals(tokens, sampled.size(), rule + ", seed " + seed + ": generated tokens");
        int[] ids = model.tokenizer().encode(prompt);
        SplittableRandom random = new SplittableRandom(seed);
        List<Integer> history = new ArrayList<>();
        int[] edges = {0};
        walk(model, ids, tokens, (step, logits) -> {
            double[] p = rule.probabilities(rule.penalized(logits, ids, history));
            Draw draw = Rule.draw(p, random);
            int actual = sampled.get(step);
            if (actual != draw.id()) {
                assertTrue(draw.margin() < DRAW_MARGIN, rule + ", seed " + seed + ", token " + step + ": generate "
                        + actual + ", the reference " + draw.id() + " (draw " + draw.margin() + " from an edge)");
                assertTrue(neighbours(p, draw.id(), actual), rule + ", seed " + seed + ", token " + step + ": " + actual
                        + " is not next to " + draw.id() + " in the draw");
                edges[0]++;
            }
            history.add(actual);
            return actual;
        });
        assertTrue(edges[0] <= 1, rule + ", seed " + seed + ": " + edges[0] + " draws decided at an edge");
    }

    /** Whether tokens a and b are adjacent among the tokens of nonzero probability in p, in id order. */
    private static boolean neighbours(double[] p, int a, int b) {
        if (p[a] <= 0 || p[b] <= 0) {
            return false;
        }
        for (int id = Math.min(a, b) + 1; id < Math.max(a, b); id++) {
            if (p[id] > 0) {
                return false;
            }
        }
        return true;
    }

    /** The text the reference rule generates for {@code prompt} from the model's raw logits. */
    static String reference(String prompt, Rule rule, int tokens, long seed) {
        return model.tokenizer().decode(referenceIds(model, prompt, rule, tokens, seed), true);
    }

    /** The ids the reference rule generates for {@code prompt} from {@code model}'s raw logits. */
    static int[] referenceIds(Model model, String prompt, Rule rule, int tokens, long seed) {
        int[] ids = model.tokenizer().encode(prompt);
        SplittableRandom random = new SplittableRandom(seed);
        List<Integer> generated = new ArrayList<>();
        walk(model, ids, tokens, (step, logits) -> {
            int next = rule.pick(logits, ids, generated, random);
            generated.add(next);
            return next;
        });
        return generated.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The token a walk feeds its session after step {@code step}'s logits (the session's buffer, read at once). */
    interface Step {
        int next(int step, float[] logits);
    }

    /** Prefills {@code ids} on a session, then feeds it what {@code next} picks, {@code tokens} times or to the stop id. */
    static void walk(Model model, int[] ids, int tokens, Step next) {
        Session session = model.acquireSession();
        try {
            float[] logits = session.prefill(ids, ids.length);
            for (int step = 0; step < tokens; step++) {
                int token = next.next(step, logits);
                if (token == UNREACHABLE_STOP) {
                    break;
                }
                if (step + 1 < tokens) {
                    logits = session.decode(token);
                }
            }
        } finally {
            model.releaseSession(session);
        }
    }

    static String generate(String prompt, Rule rule, int tokens, long seed) {
        return model.generate(prompt, rule.options().maxTokens(tokens).seed(seed).build(), t -> { }).text();
    }

    @Test
    void repetitionPenaltyCoversThePromptAsInTransformers() {
        assertGreedyFollowsTheRule(Rule.greedy(4, 0, 0), Rule.greedy(4, 0, 0).planted(false, false));
    }

    @Test
    void presenceAndFrequencyPenaltiesCountGeneratedTokensOnlyAsInVllm() {
        assertGreedyFollowsTheRule(Rule.greedy(1, 1.5, 0.5), Rule.greedy(1, 1.5, 0.5).planted(true, true));
    }

    /** The case must tell {@code rule} from the {@code planted} mistake, and qwen2j must follow the rule. */
    private static void assertGreedyFollowsTheRule(Rule rule, Rule planted) {
        String prompt = "The quick brown fox jumps over the lazy dog";
        String expected = reference(prompt, rule, 12, 0);
        assertNotEquals(reference(prompt, planted, 12, 0), expected, "the case must tell " + rule + " from " + planted);
        assertEquals(expected, generate(prompt, rule, 12, 0));
    }

    @Test
    void allPenaltiesThenTemperatureTopKTopPMinPInTransformersOrderSeeded() {
        String prompt = "Once upon a time, in a land far away,";
        Rule rule = new Rule(1.3, 0.4, 0.3, true, false, 0.08, 40, 0.9, 0.05);
        for (long seed : new long[] {1, 2}) {
            String expected = reference(prompt, rule, 16, seed);
            assertNotEquals(reference(prompt, Rule.greedy(1.3, 0.4, 0.3), 16, seed), expected,
                    "seed " + seed + ": the draw must matter");
            assertFollowsTheReference(prompt, rule, 16, seed);
        }
    }

    @Test
    void eachFilterAloneMatchesTheReference() {
        String prompt = "Once upon a time, in a land far away,";
        List<Rule> rules = List.of(
                new Rule(1, 0, 0, true, false, 0.1, 5, 1, 0),
                new Rule(1, 0, 0, true, false, 0.1, 0, 0.5, 0),
                new Rule(1, 0, 0, true, false, 0.1, 0, 1, 0.3),
                new Rule(1.5, 0, 0, true, false, 0.1, 0, 1, 0),
                new Rule(1, 0.8, 0.4, true, false, 0.1, 0, 1, 0));
        for (Rule rule : rules) {
            assertFollowsTheReference(prompt, rule, 10, 9);
        }
    }

    /**
     * A prompt of two prefill blocks through {@link Model#generate} (the batch engine queues it block by block) gives,
     * at every generated token, the log-probability a session's own prefill and decode give: the path the NumPy
     * reference checks. A block fed from the wrong offset of the prompt moves them far past the bound.
     */
    @Test
    void aPromptOfTwoPrefillBlocksGivesTheSessionsLogProbabilities() {
        String[] words = {"river", "stone", "seven", "blue", "under", "quietly", "maps", "of", "the", "north", "bread",
                "window", "forty", "ran", "and", "clock", "paper", "green", "why", "tomorrow"};
        SplittableRandom random = new SplittableRandom(17);
        StringBuilder text = new StringBuilder();
        while (model.tokenizer().encode(text.toString()).length < 2 * Qwen2.PREFILL_BLOCK - 40) {
            text.append(words[random.nextInt(words.length)]).append(' ');
        }
        String prompt = text.toString().strip();
        int[] ids = model.tokenizer().encode(prompt);
        assertTrue(ids.length > Qwen2.PREFILL_BLOCK, ids.length + " tokens");

        List<TokenLogprobs> seen = new ArrayList<>();
        GenerationOptions options = GenerationOptions.builder().chat(false).temperature(0).repetitionPenalty(1)
                .presencePenalty(0).frequencyPenalty(0).logprobs(0).stopTokenIds(UNREACHABLE_STOP).maxTokens(8).build();
        model.generate(prompt, options, new GenerationListener() {
            @Override
            public void onText(String piece) {
            }

            @Override
            public void onLogprobs(TokenLogprobs logprobs) {
                seen.add(logprobs);
            }
        });
        assertEquals(8, seen.size());
        Session session = model.acquireSession();
        try {
            float[] logits = session.prefill(ids, ids.length);
            for (int t = 0; t < seen.size(); t++) {
                TokenLogprobs.Entry sampled = seen.get(t).sampled();
                float[] expected = JlamaParityTest.logSoftmax(logits);
                assertEquals(expected[sampled.id()], sampled.logprob(), 1e-4, "token " + t + " (id " + sampled.id() + ")");
                logits = session.decode(sampled.id());
            }
        } finally {
            model.releaseSession(session);
        }
    }
}
