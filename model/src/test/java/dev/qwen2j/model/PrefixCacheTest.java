package dev.qwen2j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.tensor.KvCacheLayer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The prefix cache of a continuous batch: a prompt that starts like an earlier one shares that one's full KV pages
 * and prefills only the rest, and gets the very bits (tokens and log-probabilities) a cold run of it gets; pages wait
 * evictable once released and the pool reclaims them least recently released first; a prompt waits for pages rather
 * than failing halfway, and one that can never fit is refused naming the pool.
 *
 * <p>Cold and warm runs are compared under the same conditions (each alone in its batch): decode steps take other
 * kernels alone than beside other sequences, with or without the cache.
 */
class PrefixCacheTest {

    private static final int PAGE = KvCacheLayer.PAGE;

    @TempDir
    static Path dir;
    static Model model;

    @BeforeAll
    static void load() throws Exception {
        Path folder = RandomQwen2Checkpoint.builder().hiddenSize(64).intermediateSize(128).layers(2).heads(4)
                .kvHeads(2).seed(5).maxPositionEmbeddings(1024).write(dir.resolve("model"));
        model = Model.load(folder, ModelOptions.builder().threads(2).contextLength(512).build());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** A long shared system prompt (well over two prefill blocks), then each request's own question. */
    private static final String SYSTEM = "you are a careful assistant and" + " answer every question well".repeat(90);

    private static GenerationOptions greedy(int maxTokens) {
        return GenerationOptions.builder().chat(false).temperature(0).maxTokens(maxTokens).logprobs(4)
                .stopTokenIds(Integer.MAX_VALUE).build();
    }

    private static GenerationOptions seeded(long seed, int maxTokens) {
        return GenerationOptions.builder().chat(false).temperature(1.0).seed(seed).maxTokens(maxTokens).logprobs(4)
                .stopTokenIds(Integer.MAX_VALUE).build();
    }

    /** One sample: its text, every token's log-probabilities (the logits' bits, as far as sampling sees them). */
    static final class Sample implements ContinuousBatch.Listener {
        final StringBuilder text = new StringBuilder();
        final List<String> logprobs = new ArrayList<>();
        GenerationResult result;

        @Override
        public void onText(String piece) {
            text.append(piece);
        }

        @Override
        public void onLogprobs(TokenLogprobs l) {
            StringBuilder line = new StringBuilder().append(l.sampled().id()).append(':')
                    .append(Float.floatToRawIntBits(l.sampled().logprob()));
            for (TokenLogprobs.Entry e : l.top()) {
                line.append(' ').append(e.id()).append(':').append(Float.floatToRawIntBits(e.logprob()));
            }
            logprobs.add(line.toString());
        }

        @Override
        public void onFinish(GenerationResult r) {
            result = r;
        }
    }

    /** Runs {@code prompt} alone in {@code batch} to its end. */
    private static Sample run(ContinuousBatch batch, String prompt, GenerationOptions options) {
        Sample sample = new Sample();
        batch.admit(model.prepare(prompt, options), List.of(sample));
        while (batch.size() > 0) {
            batch.step();
        }
        return sample;
    }

    private static Sample cold(String prompt, GenerationOptions options) {
        try (ContinuousBatch batch = model.newContinuousBatch(ContinuousBatchOptions.of(2).withPrefixCache(false))) {
            Sample s = run(batch, prompt, options);
            assertEquals(0, s.result.cachedTokens());
            return s;
        }
    }

    /**
     * The warm run gives the cold run's bits, on the first try: every kernel gives the same bits in every JIT tier
     * (lane sums in a fixed order, e^x from multiply-adds), so any difference is the cache's.
     */
    private static void exact(Supplier<Sample> cold, Supplier<Sample> warm, String what) {
        assertSame(cold.get(), warm.get(), what);
    }

    private static void assertSame(Sample cold, Sample warm, String what) {
        assertEquals(cold.text.toString(), warm.text.toString(), what);
        assertEquals(cold.logprobs, warm.logprobs, what + ": log-probabilities, bit for bit");
        assertEquals(cold.result.generatedTokens(), warm.result.generatedTokens(), what);
        assertEquals(cold.result.finishReason(), warm.result.finishReason(), what);
    }

    @Test
    void aSecondRequestWithTheSameSystemPromptPrefillsOnlyItsOwnPartAndGetsTheColdBits() {
        String first = SYSTEM + " what is the sky";
        String second = SYSTEM + " why is the grass green and not blue";
        int systemTokens = model.tokenizer().encode(SYSTEM).length;
        for (GenerationOptions options : List.of(greedy(24), seeded(11, 24))) {
            exact(() -> cold(second, options), () -> {
                try (ContinuousBatch batch = model.newContinuousBatch(2)) {
                    run(batch, first, options);
                    long prefilledBefore = batch.prefilledPromptTokens();
                    assertTrue(batch.evictablePages() > 0, "the first prompt's pages wait in the cache");
                    Sample warm = run(batch, second, options);
                    int cached = warm.result.cachedTokens();
                    int promptTokens = warm.result.promptTokens();
                    assertTrue(cached % PAGE == 0 && cached >= (systemTokens - PAGE) / PAGE * PAGE,
                            cached + " cached tokens of a system prompt of " + systemTokens);
                    assertTrue(cached <= promptTokens - 2, "at least two tokens are prefilled");
                    assertEquals(promptTokens - cached, batch.prefilledPromptTokens() - prefilledBefore,
                            "only the suffix was prefilled");
                    assertEquals(cached, batch.prefixCacheHitTokens());
                    assertEquals(0, batch.pagesInUse(), "every page back: free or evictable");
                    return warm;
                }
            }, "temperature " + options.temperature());
        }
    }

    @Test
    void samplesOfAHitPromptFollowTheirSeeds() {
        String prompt = SYSTEM + " tell me a story";
        GenerationOptions options = seeded(40, 12);
        for (int i = 0; i < 2; i++) {
            int sample = i;
            exact(() -> samples(prompt, options, false).get(sample), () -> samples(prompt, options, true).get(sample),
                    "sample " + i);
        }
        List<Sample> warm = samples(prompt, options, true);
        assertTrue(warm.get(0).result.cachedTokens() > 0);
        assertEquals(warm.get(0).result.cachedTokens(), warm.get(1).result.cachedTokens());
        assertNotEquals(warm.get(0).text.toString(), warm.get(1).text.toString(), "the seeds differ");
    }

    /** Two samples of {@code prompt}, after another prompt with the same system prompt when {@code warm}. */
    private static List<Sample> samples(String prompt, GenerationOptions options, boolean warm) {
        List<Sample> samples = List.of(new Sample(), new Sample());
        try (ContinuousBatch batch = model.newContinuousBatch(ContinuousBatchOptions.of(2).withPrefixCache(warm))) {
            if (warm) {
                run(batch, SYSTEM + " something else entirely", options);
            }
            batch.admit(model.prepare(prompt, options), samples);
            while (batch.size() > 0) {
                batch.step();
            }
            assertEquals(0, batch.pagesInUse());
        }
        return samples;
    }

    /**
     * A prompt's prefill gives the same bits however its blocks fall: alone (blocks at 0, 128, 256), behind another
     * prompt that takes part of each step's budget, and after cached prefixes of several lengths. One token each, so
     * only the prefill's logits count.
     */
    @Test
    void whereAPromptsBlocksEndDoesNotChangeItsBits() {
        String prompt = SYSTEM + " and this is the end";
        GenerationOptions options = greedy(1);
        int tokens = cold(prompt, options).result.promptTokens();
        assertTrue(tokens > 2 * Qwen2.PREFILL_BLOCK + 2, tokens + " tokens");
        for (int other : List.of(1, 2, 3, 100, 127)) { // the other prompt leaves 127, 126, ... tokens of budget
            String ahead = "x" + " y".repeat(other - 1);
            exact(() -> cold(prompt, options), () -> {
                Sample behind = new Sample();
                try (ContinuousBatch batch = model.newContinuousBatch(ContinuousBatchOptions.of(2)
                        .withPrefixCache(false))) {
                    batch.admit(model.prepare(ahead, greedy(1)), List.of(new Sample()));
                    batch.admit(model.prepare(prompt, options), List.of(behind));
                    while (batch.size() > 0) {
                        batch.step();
                    }
                }
                return behind;
            }, "behind a prompt of " + model.tokenizer().encode(ahead).length + " tokens");
        }
        for (String earlier : List.of(SYSTEM.substring(0, 600), SYSTEM, SYSTEM + " and this is")) {
            exact(() -> cold(prompt, options), () -> {
                try (ContinuousBatch batch = model.newContinuousBatch(2)) {
                    run(batch, earlier, greedy(1));
                    Sample warm = run(batch, prompt, options);
                    assertTrue(warm.result.cachedTokens() > 0, earlier.length() + " characters before");
                    return warm;
                }
            }, "after the cached prefix of " + earlier.length() + " characters");
        }
    }

    /**
     * A prompt one token longer than two blocks: prefilled 128 + 128 + 1, its last token would run alone in its step
     * through the one-row kernels (whose sums are ordered otherwise), so a cache hit (whose suffix runs in one block)
     * could not give its bits. The engine splits it 128 + 127 + 2 instead.
     */
    @Test
    void aPromptJustOverABlockBoundaryGivesTheSameBitsWithAndWithoutAHit() {
        StringBuilder text = new StringBuilder(SYSTEM.substring(0, 600));
        String prompt = null;
        for (int word = 0; prompt == null; word++) {
            text.append(' ').append((char) ('a' + word % 26));
            int tokens = model.tokenizer().encode(text.toString()).length;
            assertTrue(tokens < 2 * Qwen2.PREFILL_BLOCK + 8, tokens + " tokens");
            if (tokens == 2 * Qwen2.PREFILL_BLOCK + 1) {
                prompt = text.toString();
            }
        }
        String exactly = prompt;
        exact(() -> cold(exactly, greedy(4)), () -> {
            try (ContinuousBatch batch = model.newContinuousBatch(2)) {
                run(batch, SYSTEM.substring(0, 600), greedy(1));
                Sample warm = run(batch, exactly, greedy(4));
                assertTrue(warm.result.cachedTokens() > 0);
                return warm;
            }
        }, "a prompt of " + (2 * Qwen2.PREFILL_BLOCK + 1) + " tokens");
    }

    @Test
    void theWholePromptCachedStillPrefillsItsLastTokens() {
        String prompt = SYSTEM + " again";
        exact(() -> cold(prompt, greedy(8)), () -> {
            try (ContinuousBatch batch = model.newContinuousBatch(2)) {
                run(batch, prompt, greedy(8));
                Sample again = run(batch, prompt, greedy(8));
                int tokens = again.result.promptTokens();
                assertEquals((tokens - 2) / PAGE * PAGE, again.result.cachedTokens());
                return again;
            }
        }, "the same prompt twice");
    }

    @Test
    void theOffOptionCachesNothing() {
        try (ContinuousBatch batch = model.newContinuousBatch(ContinuousBatchOptions.of(1).withPrefixCache(false))) {
            run(batch, SYSTEM, greedy(2));
            assertEquals(0, batch.evictablePages());
            assertEquals(0, run(batch, SYSTEM + " more", greedy(2)).result.cachedTokens());
            assertEquals(0, batch.prefixCacheHitTokens());
        }
    }

    private static long pageBytes() {
        return model.kvPoolPlan(ContinuousBatchOptions.of(1)).pageBytes();
    }

    @Test
    void theLeastRecentlyReleasedPagesAreReclaimedFirstAndTheRestStillHit() {
        String a = SYSTEM.substring(0, 1200);
        int aTokens = model.tokenizer().encode(a).length;
        int aPages = aTokens / PAGE;
        assertTrue(aPages >= 4, aPages + " full pages");
        int pool = aPages + 3 + 8; // room for the other prompt only when one of a's pages goes
        exact(() -> cold(a + " then more words", greedy(6)), () -> evictAndHit(a, aPages, pool), "after an eviction");
    }

    private static Sample evictAndHit(String a, int aPages, int pool) {
        try (ContinuousBatch batch = model.newContinuousBatch(ContinuousBatchOptions.of(2)
                .withKvMemoryBytes(pool * pageBytes()))) {
            assertEquals(pool, batch.plan().pages());
            run(batch, a, greedy(4));
            assertEquals(aPages, batch.prefixCachePages());
            assertEquals(aPages, batch.evictablePages());
            // Unrelated, and needing every page but aPages - 1 of the pool: one of a's pages is reclaimed.
            String unrelated = "z" + " q".repeat(200);
            int otherTokens = model.tokenizer().encode(unrelated).length;
            int free = pool - aPages;
            assertTrue(otherTokens < free * PAGE, otherTokens + " tokens");
            Sample other = run(batch, unrelated, greedy((free + 1) * PAGE - otherTokens));
            assertEquals(0, other.result.cachedTokens());
            assertTrue(batch.prefixCachePages() >= aPages - 1, batch.prefixCachePages() + " pages registered");
            Sample again = run(batch, a + " then more words", greedy(6));
            // a's last page went first: its first aPages - 1 still hit.
            assertEquals((aPages - 1) * PAGE, again.result.cachedTokens());
            assertEquals(0, batch.pagesInUse());
            return again;
        }
    }

    @Test
    void aRequestWaitsForPagesAndOneThatCanNeverFitIsRefusedNamingThePool() {
        int pool = 12;
        try (ContinuousBatch batch = model.newContinuousBatch(ContinuousBatchOptions.of(4)
                .withKvMemoryBytes(pool * pageBytes()).withPrefixCache(false))) {
            PreparedPrompt big = model.prepare("one two three", greedy(7 * PAGE)); // 8 pages at most
            Sample first = new Sample();
            assertTrue(batch.tryAdmit(big, List.of(first)));
            Sample second = new Sample();
            assertFalse(batch.tryAdmit(big, List.of(second)), "8 + 8 pages exceed the pool of 12");
            assertThrows(IllegalStateException.class, () -> batch.admit(big, List.of(second)));
            int steps = 0;
            while (!batch.tryAdmit(big, List.of(second))) {
                assertTrue(batch.size() > 0, "nothing runs, yet the request does not fit: " + batch.pagesInUse() + " "
                        + batch.allocatorState());
                batch.step();
                steps++;
            }
            assertTrue(first.result != null && steps >= 7 * PAGE - 1, "admitted once the first left, after " + steps + " steps: "
                    + first.result);
            while (batch.size() > 0) {
                batch.step();
            }
            assertEquals(first.text.toString(), second.text.toString());
            PreparedPrompt huge = model.prepare("one two three", greedy(12 * PAGE));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> batch.tryAdmit(huge, List.of(new Sample())));
            assertTrue(e.getMessage().contains("whole KV pool of 12 pages"), e.getMessage());
            IllegalArgumentException samples = assertThrows(IllegalArgumentException.class,
                    () -> batch.tryAdmit(big, List.of(new Sample(), new Sample())));
            assertTrue(samples.getMessage().contains("x 2 sample(s)"), samples.getMessage());
        }
    }
}
