package dev.qwen2j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Log-probabilities: the collector against a log-softmax and a sort computed here in double precision, and through
 * a generation, where a greedy token is always the most likely one and the tokens' texts make up the text.
 */
class LogprobsTest {

    @TempDir
    static Path dir;
    static Model model;

    @BeforeAll
    static void load() throws Exception {
        Path folder = RandomQwen2Checkpoint.builder().hiddenSize(64).intermediateSize(128).layers(2).heads(4)
                .kvHeads(2).seed(8).maxPositionEmbeddings(512).write(dir.resolve("model"));
        model = Model.load(folder, ModelOptions.builder().threads(2).build());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void collectorMatchesALogSoftmaxAndASort() {
        int vocab = model.config().vocabSize();
        Random random = new Random(4);
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            logits[i] = (float) (random.nextGaussian() * 3);
        }
        logits[17] = logits[99]; // a tie: the lower id first
        LogprobsCollector collector = new LogprobsCollector(model.tokenizer(), vocab, 5);
        collector.capture(logits);
        Arrays.fill(logits, 0); // the sampler changes the logits after the capture
        TokenLogprobs result = collector.of(42);
        collector.capture(logits);
        double max = Double.NEGATIVE_INFINITY;
        random = new Random(4);
        double[] expected = new double[vocab];
        for (int i = 0; i < vocab; i++) {
            expected[i] = (float) (random.nextGaussian() * 3);
        }
        expected[17] = expected[99];
        for (double l : expected) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (double l : expected) {
            sum += Math.exp(l - max);
        }
        double logSum = max + Math.log(sum);
        assertEquals(expected[42] - logSum, result.sampled().logprob(), 1e-4);
        assertEquals(42, result.sampled().id());
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < vocab; i++) {
            order.add(i);
        }
        double[] e = expected;
        order.sort(Comparator.<Integer>comparingDouble(i -> -e[i]).thenComparingInt(i -> i));
        assertEquals(5, result.top().size());
        for (int j = 0; j < 5; j++) {
            assertEquals(order.get(j), result.top().get(j).id(), "rank " + j);
            assertEquals(expected[order.get(j)] - logSum, result.top().get(j).logprob(), 1e-4);
        }
        byte[] bytes = model.tokenizer().tokenBytes(42);
        assertArrayEquals(bytes, result.sampled().bytes());
    }

    @Test
    void aGreedyTokenIsTheMostLikelyAndTheTokensSpellTheText() {
        List<TokenLogprobs> seen = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        GenerationOptions options = GenerationOptions.builder().chat(false).temperature(0).maxTokens(20).logprobs(3)
                .repetitionPenalty(1).presencePenalty(0).frequencyPenalty(0) // logprobs are before penalties
                .stopTokenIds(Integer.MAX_VALUE).build();
        GenerationResult result = model.generate("the cat sat on", options, new GenerationListener() {
            @Override
            public void onText(String piece) {
                text.append(piece);
            }

            @Override
            public void onLogprobs(TokenLogprobs logprobs) {
                seen.add(logprobs);
            }
        });
        assertEquals(20, seen.size());
        StringBuilder tokens = new StringBuilder();
        for (TokenLogprobs t : seen) {
            assertEquals(3, t.top().size());
            assertEquals(t.top().getFirst().id(), t.sampled().id());
            assertEquals(t.top().getFirst().logprob(), t.sampled().logprob());
            assertTrue(t.top().get(0).logprob() >= t.top().get(1).logprob() && t.top().get(2).logprob() <= 0);
            tokens.append(t.sampled().token());
        }
        if (!tokens.toString().contains("\uFFFD")) {
            assertEquals(result.text(), tokens.toString());
        }
        GenerationResult plain = model.generate("the cat sat on", options.toBuilder().logprobs(-1).build(), t -> { });
        assertEquals(plain.text(), result.text(), "asking for logprobs changes no token");
        assertThrows(IllegalArgumentException.class, () -> GenerationOptions.builder().logprobs(21));
    }
}
