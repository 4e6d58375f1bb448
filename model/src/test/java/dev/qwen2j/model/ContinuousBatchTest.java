package dev.qwen2j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.tensor.KvCacheLayer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sequences join a running batch between steps and leave it when done: every one gets exactly what it gets alone
 * (prompts longer than a prefill block included, prefilled a block per step beside the others' decoding), n samples
 * of one prompt share its prefill, and every page is back in the pool afterwards.
 */
class ContinuousBatchTest {

    @TempDir
    static Path dir;
    static Model model;

    @BeforeAll
    static void load() throws Exception {
        Path folder = RandomQwen2Checkpoint.builder().hiddenSize(64).intermediateSize(128).layers(2).heads(4)
                .kvHeads(2).seed(3).maxPositionEmbeddings(1024).write(dir.resolve("model"));
        model = Model.load(folder, ModelOptions.builder().threads(2).contextLength(512).build());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static GenerationOptions options(long seed, int maxTokens) {
        return GenerationOptions.builder().chat(false).temperature(1.0).seed(seed).maxTokens(maxTokens)
                .stopTokenIds(Integer.MAX_VALUE).build();
    }

    /** Collects one sample's text and outcome. */
    static final class Sample implements ContinuousBatch.Listener {
        final StringBuilder text = new StringBuilder();
        GenerationResult result;
        volatile boolean cancel;

        @Override
        public void onText(String piece) {
            text.append(piece);
        }

        @Override
        public boolean isCancelled() {
            return cancel;
        }

        @Override
        public void onFinish(GenerationResult r) {
            result = r;
        }
    }

    @Test
    void sequencesThatJoinMidFlightGetWhatTheyGetAlone() {
        List<String> prompts = List.of("the cat sat", "a" + " b".repeat(299), "on the mat", "x y z w");
        List<GenerationOptions> options = List.of(options(1, 40), options(2, 12), options(3, 30), options(4, 1));
        List<Sample> samples = new ArrayList<>();
        int largestStep = 0;
        try (ContinuousBatch batch = model.newContinuousBatch(4)) {
            for (int p = 0; p < prompts.size(); p++) {
                Sample sample = new Sample();
                samples.add(sample);
                batch.admit(model.prepare(prompts.get(p), options.get(p)), List.of(sample));
                for (int i = 0; i < 3; i++) { // the next one joins while these decode (or prefill)
                    largestStep = Math.max(largestStep, batch.step());
                }
            }
            while (batch.size() > 0) {
                largestStep = Math.max(largestStep, batch.step());
            }
            assertEquals(0, batch.pagesInUse(), "every page back in the pool");
        }
        assertTrue(largestStep >= 3, "steps ran up to " + largestStep + " sequences together");
        for (int p = 0; p < prompts.size(); p++) {
            GenerationResult alone = model.generate(prompts.get(p), options.get(p), t -> { });
            GenerationResult batched = samples.get(p).result;
            assertEquals(alone.text(), batched.text(), prompts.get(p));
            assertEquals(alone.text(), samples.get(p).text.toString(), prompts.get(p));
            assertEquals(alone.generatedTokens(), batched.generatedTokens(), prompts.get(p));
            assertEquals(alone.finishReason(), batched.finishReason(), prompts.get(p));
            assertEquals(alone.promptTokens(), batched.promptTokens(), prompts.get(p));
        }
    }

    @Test
    void samplesOfOnePromptSharePrefillAndPagesAndFollowTheirSeeds() {
        String prompt = "the" + " the".repeat(199);
        GenerationOptions options = options(20, 16);
        List<Sample> samples = List.of(new Sample(), new Sample(), new Sample());
        int peak;
        try (ContinuousBatch batch = model.newContinuousBatch(3)) {
            batch.admit(model.prepare(prompt, options), samples);
            while (batch.size() > 0) {
                batch.step();
            }
            peak = batch.peakPagesInUse();
            assertEquals(0, batch.pagesInUse());
        }
        // The prompt's 6 full pages once; each sample its copy of the partial page and the pages it adds.
        int alone = KvCacheLayer.pagesFor(200 + 16);
        int shared = 200 / KvCacheLayer.PAGE;
        assertEquals(shared + 3 * (alone - shared), peak);
        for (int i = 0; i < 3; i++) {
            GenerationResult one = model.generate(prompt, options.toBuilder().seed(20 + i).build(), t -> { });
            assertEquals(one.text(), samples.get(i).result.text(), "sample " + i);
        }
        assertTrue(!samples.get(0).result.text().equals(samples.get(1).result.text()), "the seeds differ");
    }

    @Test
    void aCancelledSampleLeavesAtTheNextStepAndFreesItsPages() {
        Sample cancelled = new Sample();
        Sample other = new Sample();
        try (ContinuousBatch batch = model.newContinuousBatch(2)) {
            batch.admit(model.prepare("one two three", options(5, 400)), List.of(cancelled));
            batch.admit(model.prepare("four five six", options(6, 400)), List.of(other));
            for (int i = 0; i < 5; i++) {
                batch.step();
            }
            int before = batch.pagesInUse();
            cancelled.cancel = true;
            assertEquals(1, batch.step(), "the cancelled one leaves before the forward pass");
            assertEquals(FinishReason.CANCELLED, cancelled.result.finishReason());
            assertEquals(1, batch.size());
            assertTrue(batch.pagesInUse() < before, batch.pagesInUse() + " pages, before " + before);
            other.cancel = true;
            batch.step();
            assertEquals(0, batch.size());
            assertEquals(0, batch.pagesInUse());
        }
    }

    @Test
    void aFullBatchRefusesMore() {
        try (ContinuousBatch batch = model.newContinuousBatch(2)) {
            PreparedPrompt prompt = model.prepare("hello", options(1, 4));
            batch.admit(prompt, List.of(new Sample()));
            assertTrue(batch.hasRoom(1));
            assertTrue(!batch.hasRoom(2));
            assertThrows(IllegalStateException.class, () -> batch.admit(prompt, List.of(new Sample(), new Sample())));
            assertThrows(IllegalArgumentException.class,
                    () -> batch.admit(prompt, List.of(new Sample(), new Sample(), new Sample())));
        }
        assertThrows(IllegalArgumentException.class, () -> model.newContinuousBatch(0));
    }
}
