package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.model.FinishReason;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.GenerationResult;
import dev.qwen2j.model.Model;
import dev.qwen2j.model.SelfConsistencyResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reasoning at test time on the demo model: batched decoding against decoding alone, the thinking budget, and
 * self-consistency's majority vote against single samples where sampling is noisy (temperature 1.5).
 */
class DemoModelReasoningTest {

    @TempDir
    static Path cache;
    static Model model;

    @BeforeAll
    static void load() throws Exception {
        model = Model.load(DemoModel.unpackInto(cache));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static final List<String> PROMPTS = List.of("What is 3+4?", "What is 1234+9876?", "What is 58+7?",
            "What is 9999+1?", "What is 402+6150?");

    @Test
    void batchedGreedyDecodingGivesEachSequenceItsTokensAlone() {
        GenerationOptions options = GenerationOptions.builder().temperature(0).maxTokens(64).build();
        assertSameAsAlone(options);
    }

    @Test
    void batchedSeededSamplingGivesEachSequenceItsTokensAlone() {
        GenerationOptions options = GenerationOptions.builder().temperature(1.5).seed(7).maxTokens(64).build();
        assertSameAsAlone(options);
    }

    private static void assertSameAsAlone(GenerationOptions options) {
        List<GenerationResult> batched = model.generateAll(PROMPTS, options);
        assertEquals(PROMPTS.size(), batched.size());
        for (int i = 0; i < PROMPTS.size(); i++) {
            GenerationResult alone = model.generate(PROMPTS.get(i), options, text -> { });
            assertEquals(alone.text(), batched.get(i).text(), PROMPTS.get(i));
            assertEquals(alone.generatedTokens(), batched.get(i).generatedTokens(), PROMPTS.get(i));
            assertEquals(alone.finishReason(), batched.get(i).finishReason(), PROMPTS.get(i));
        }
    }

    @Test
    void eachSampleOfSelfConsistencyIsWhatItsSeedGivesAlone() {
        GenerationOptions options = GenerationOptions.builder().temperature(1.5).seed(11).maxTokens(64).samples(4)
                .build();
        SelfConsistencyResult voted = model.selfConsistency("What is 358+479?", options);
        assertEquals(4, voted.samples().size());
        for (int i = 0; i < 4; i++) {
            GenerationOptions alone = options.toBuilder().samples(1).seed(11 + i).build();
            assertEquals(model.generate("What is 358+479?", alone, text -> { }).text(), voted.samples().get(i).text());
        }
        SelfConsistencyResult again = model.selfConsistency("What is 358+479?", options);
        assertEquals(voted.answers(), again.answers());
        assertEquals(voted.answer(), again.answer());
    }

    @Test
    void aThinkingBudgetOfEightTokensEndsTheThinkWithinEightAndStillAnswers() {
        GenerationOptions options = GenerationOptions.builder().temperature(0).maxTokens(64).maxThinkingTokens(8)
                .build();
        for (String prompt : PROMPTS) {
            GenerationResult r = model.generate(prompt, options, text -> { });
            assertTrue(r.thinkingTokens() <= 8, prompt + ": " + r.thinkingTokens() + " thinking tokens");
            assertTrue(r.text().contains("</think>"), r.text());
            assertTrue(r.answer().matches("\\d+"), prompt + " → answer '" + r.answer() + "' in " + r.text());
            assertEquals(FinishReason.EOS, r.finishReason(), r.text());
        }
        // The full think of 1234+9876 is longer than eight tokens, so the budget did cut it.
        GenerationResult unlimited = model.generate("What is 1234+9876?",
                GenerationOptions.builder().temperature(0).maxTokens(64).build(), text -> { });
        assertTrue(unlimited.thinkingTokens() > 8, "unlimited think: " + unlimited.thinkingTokens());
        assertEquals("11110", unlimited.answer());
    }

    @Test
    void majorityOfNineSamplesBeatsSingleSamplesAtTemperatureOnePointFive() {
        Random random = new Random(20261201);
        int sums = 50;
        int samples = 9;
        int majorityRight = 0;
        int samplesRight = 0;
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < sums; i++) {
            int a = random.nextInt(10_000);
            int b = random.nextInt(10_000);
            String truth = String.valueOf(a + b);
            GenerationOptions options = GenerationOptions.builder().temperature(1.5).seed(1000L * i).maxTokens(64)
                    .samples(samples).build();
            SelfConsistencyResult r = model.selfConsistency("What is " + a + "+" + b + "?", options);
            if (truth.equals(r.answer())) {
                majorityRight++;
            } else {
                failures.add(a + "+" + b + " → " + r.answer() + " " + r.answers());
            }
            samplesRight += (int) r.answers().stream().filter(truth::equals).count();
        }
        double single = (double) samplesRight / samples; // expected sums right by one sample alone
        System.out.printf("self-consistency on the demo model at T=1.5: majority of %d right on %d of %d sums,"
                + " single samples on %.1f of %d (%d of %d samples)%n", samples, majorityRight, sums, single, sums,
                samplesRight, sums * samples);
        assertTrue(single < 0.9 * sums, "single samples should be noisy at T=1.5: " + single + " of " + sums);
        assertTrue(majorityRight >= single + 0.1 * sums, "majority " + majorityRight + " vs single " + single
                + " of " + sums + "; wrong: " + failures);
    }
}
