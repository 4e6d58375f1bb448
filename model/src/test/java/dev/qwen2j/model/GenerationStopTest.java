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
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Stop strings and stop ids through {@link Model#generate}: generation ends with {@link FinishReason#STOP} (strings)
 * or {@link FinishReason#EOS} (ids), the result and the streamed pieces hold exactly the text before the stop, and
 * nothing of the stop or after it is ever streamed. The continuation is greedy with a repetition penalty (so its
 * tokens differ from one another); its ids come from the model's raw logits, as in {@link GenerationSamplingTest}.
 */
class GenerationStopTest {

    static final String PROMPT = "Stop strings, stop tokens:";
    static final int TOKENS = 16;
    static final GenerationSamplingTest.Rule GREEDY = GenerationSamplingTest.Rule.greedy(4, 0, 0);

    @TempDir
    static Path dir;
    static Model model;
    /** The free continuation's ids and the text each one adds. */
    static int[] ids;
    static List<String> pieces;

    @BeforeAll
    static void load() throws IOException {
        Path folder = RandomQwen2Checkpoint.builder().seed(23).maxPositionEmbeddings(512).write(dir.resolve("model"));
        model = Model.load(folder, ModelOptions.builder().threads(2).contextLength(128).build());
        ids = GenerationSamplingTest.referenceIds(model, PROMPT, GREEDY, TOKENS, 0);
        pieces = new ArrayList<>();
        String before = "";
        for (int i = 1; i <= ids.length; i++) {
            String text = model.tokenizer().decode(Arrays.copyOf(ids, i), true);
            pieces.add(text.substring(before.length()));
            before = text;
        }
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Generates with {@code options} on top of the greedy rule, recording every streamed piece. */
    private static Run generate(GenerationOptions.Builder options) {
        List<String> streamed = new ArrayList<>();
        GenerationResult r = model.generate(PROMPT, options.maxTokens(TOKENS).build(), streamed::add);
        return new Run(r, streamed);
    }

    private static GenerationOptions.Builder greedy() {
        return GREEDY.options();
    }

    record Run(GenerationResult result, List<String> streamed) {
        String streamedText() {
            return String.join("", streamed);
        }
    }

    /** The index of a token whose text and the next one's each have at least two characters. */
    private static int splitPoint() {
        for (int i = 1; i + 1 < pieces.size(); i++) {
            if (pieces.get(i).length() >= 2 && pieces.get(i + 1).length() >= 2
                    && !pieces.get(i).contains("\uFFFD") && !pieces.get(i + 1).contains("\uFFFD")) {
                return i;
            }
        }
        throw new AssertionError("no two neighbouring multi-character tokens in " + pieces);
    }

    @Test
    void theFreeRunIsTheReferenceContinuation() {
        Run free = generate(greedy());
        assertEquals(String.join("", pieces), free.result().text());
        assertEquals(free.result().text(), free.streamedText());
        assertEquals(FinishReason.LENGTH, free.result().finishReason());
    }

    @Test
    void aStopStringSplitAcrossTokensEndsBeforeItAndNothingAfterIsStreamed() {
        int i = splitPoint();
        String left = pieces.get(i);
        String stop = left.substring(left.length() - 2) + pieces.get(i + 1).substring(0, 2);
        String full = String.join("", pieces);
        String expected = full.substring(0, full.indexOf(stop));
        Run run = generate(greedy().stopStrings(stop));
        assertEquals(FinishReason.STOP, run.result().finishReason());
        assertEquals(expected, run.result().text());
        assertEquals(expected, run.streamedText());
        assertEquals(i + 2, run.result().generatedTokens(), "stops on the token that completes the stop string");
    }

    @Test
    void aStopStringInTheFirstTokenStreamsNothing() {
        String stop = pieces.getFirst().substring(0, 1);
        Run run = generate(greedy().stopStrings(stop));
        assertEquals(FinishReason.STOP, run.result().finishReason());
        assertEquals("", run.result().text());
        assertTrue(run.streamed().isEmpty(), run.streamed().toString());
        assertEquals(1, run.result().generatedTokens());
    }

    @Test
    void aStopStringEndingATokenStopsAtThatToken() {
        int i = splitPoint();
        String stop = pieces.get(i);
        String full = String.join("", pieces);
        Run run = generate(greedy().stopStrings("never appears \u0000", stop));
        assertEquals(FinishReason.STOP, run.result().finishReason());
        assertEquals(full.substring(0, full.indexOf(stop)), run.streamedText());
        assertEquals(run.streamedText(), run.result().text());
    }

    @Test
    void aStopIdEndsWithEosAndItsTextIsNeverStreamed() {
        int at = 3;
        int firstOccurrence = 0;
        while (ids[firstOccurrence] != ids[at]) {
            firstOccurrence++;
        }
        Run run = generate(greedy().stopTokenIds(ids[at]));
        String expected = String.join("", pieces.subList(0, firstOccurrence));
        assertEquals(FinishReason.EOS, run.result().finishReason());
        assertEquals(expected, run.result().text());
        assertEquals(expected, run.streamedText());
        assertEquals(firstOccurrence + 1, run.result().generatedTokens());
    }

    @Test
    void aStopIdAsTheFirstTokenStreamsNothing() {
        Run run = generate(greedy().stopTokenIds(ids[0]));
        assertEquals(FinishReason.EOS, run.result().finishReason());
        assertEquals("", run.result().text());
        assertTrue(run.streamed().isEmpty(), run.streamed().toString());
    }
}
