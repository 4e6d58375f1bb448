package dev.qwen2j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.chat.ReasoningFormat;
import dev.qwen2j.core.checkpoint.BundledTokenizer;
import dev.qwen2j.core.sampling.Sampler;
import dev.qwen2j.core.sampling.SamplingParams;
import dev.qwen2j.core.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The thinking budget and the reasoning split of one {@link Sequence}, driven without a model: a greedy sampler
 * over one-hot logits makes the "model" say exactly the scripted tokens, and the test watches what the sequence
 * queues to feed back and what it reports.
 */
class ThinkingBudgetTest {

    private static final int EOS = 151645;

    @TempDir
    static Path folder;
    static Tokenizer tokenizer;

    @BeforeAll
    static void loadTokenizer() throws Exception {
        BundledTokenizer.copyTo(folder);
        tokenizer = Tokenizer.load(folder);
    }

    /** A sequence whose next token is always the scripted one, and everything fed back. */
    private static final class Scripted {
        final Sequence sequence;
        final List<Integer> fed = new ArrayList<>();
        final StringBuilder reasoning = new StringBuilder();
        final StringBuilder answer = new StringBuilder();
        final float[] logits = new float[tokenizer.vocabSize()];

        Scripted(ReasoningFormat format, String prompt, GenerationOptions options) {
            ThinkingControl control = ThinkingControl.of(format, prompt, options, tokenizer);
            GenerationListener listener = new GenerationListener() {
                @Override
                public void onText(String text) {
                }

                @Override
                public void onChannelText(Channel channel, String text) {
                    (channel == Channel.REASONING ? reasoning : answer).append(text);
                }
            };
            sequence = new Sequence(tokenizer.encode(prompt), options.maxTokens(), null,
                    new Sampler(SamplingParams.GREEDY, 1, logits.length), new int[] {EOS},
                    tokenizer.streamingDecoder(true), new StopStringMatcher(List.of()), control, listener, null);
        }

        /** The model says {@code id}; returns what the sequence queued to feed. */
        int[] say(int id) {
            Arrays.fill(logits, 0f);
            logits[id] = 1f;
            sequence.logits = logits;
            sequence.advance();
            int[] queued = Arrays.copyOf(sequence.feed, sequence.feedCount);
            for (int q : queued) {
                fed.add(q);
            }
            return queued;
        }

        void sayAll(String text) {
            for (int id : tokenizer.encode(text)) {
                say(id);
            }
        }
    }

    private static GenerationOptions budget(Integer max, int min) {
        GenerationOptions.Builder b = GenerationOptions.builder().maxTokens(200).minThinkingTokens(min);
        if (max != null) {
            b.maxThinkingTokens(max);
        }
        return b.build();
    }

    @Test
    void thinkMarkersSplitReasoningFromAnswerAndCountThinkingTokens() {
        Scripted s = new Scripted(ReasoningFormat.THINK, "<|im_start|>assistant\n", budget(null, 0));
        s.sayAll("<think>");
        s.sayAll("\n8+9=17\n");
        s.sayAll("</think>");
        s.sayAll("\n\n17");
        s.say(EOS);
        GenerationResult r = s.sequence.result();
        assertEquals(FinishReason.EOS, r.finishReason());
        assertEquals("<think>\n8+9=17\n</think>\n\n17", r.text());
        assertEquals("8+9=17", r.reasoning());
        assertEquals("17", r.answer());
        assertEquals("8+9=17\n", s.reasoning.toString());
        assertEquals("17", s.answer.toString());
        // Thinking tokens: those sampled inside the thought, from the one after <think> to the one that completes </think>.
        assertEquals(tokenizer.encode("\n8+9=17\n").length + tokenizer.encode("</think>").length, r.thinkingTokens());
    }

    @Test
    void skyT1MarkersAndAPromptWithoutMarkers() {
        Scripted sky = new Scripted(ReasoningFormat.SKY_T1, "x", budget(null, 0));
        sky.sayAll("<|begin_of_thought|>\n\nhmm\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n\\boxed{4}\n\n<|end_of_solution|>");
        sky.say(EOS);
        assertEquals("hmm", sky.sequence.result().reasoning());
        assertEquals("\\boxed{4}", sky.sequence.result().answer());

        Scripted plain = new Scripted(ReasoningFormat.NONE, "x", budget(null, 0));
        plain.sayAll("<think>just text</think>");
        plain.say(EOS);
        assertEquals("", plain.sequence.result().reasoning());
        assertEquals("<think>just text</think>", plain.sequence.result().answer());
        assertEquals(0, plain.sequence.result().thinkingTokens());
    }

    @Test
    void aBudgetClosesTheThoughtAfterExactlyThatManyTokens() {
        // R1-Distill style: the prompt opened the thought, so every token from the first on is thinking.
        Scripted s = new Scripted(ReasoningFormat.THINK, "<｜Assistant｜><think>\n", budget(3, 0));
        int a = tokenizer.encode("a").length == 1 ? tokenizer.encode("a")[0] : -1;
        assertEquals(1, s.say(a).length);
        assertEquals(1, s.say(a).length);
        int[] queued = s.say(a); // the third: the budget is spent
        int[] close = tokenizer.encode("</think>\n\n");
        assertArrayEquals(IntStream.concat(IntStream.of(a), IntStream.of(close)).toArray(), queued);
        s.sayAll("42");
        s.say(EOS);
        GenerationResult r = s.sequence.result();
        assertEquals(3, r.thinkingTokens());
        assertEquals("aaa", r.reasoning());
        assertEquals("42", r.answer());
        assertEquals("aaa</think>\n\n42", r.text());
        assertEquals(3 + close.length + 2 + 1, r.generatedTokens());
    }

    @Test
    void aBudgetLandingMidCharacterEndsTheThoughtWithAReplacementCharacter() {
        int[] split = splitCharacter();
        Scripted s = new Scripted(ReasoningFormat.THINK, "<think>\n", budget(2, 0));
        s.sayAll("x");
        s.say(split[0]); // the first bytes of a character: the budget of 2 lands here
        s.sayAll("7");
        s.say(EOS);
        GenerationResult r = s.sequence.result();
        assertEquals(2, r.thinkingTokens());
        assertEquals("x\uFFFD", r.reasoning());
        assertEquals("7", r.answer());
        assertTrue(r.text().startsWith("x\uFFFD</think>"), r.text());
    }

    @Test
    void aMinimumReplacesAnEarlyEndOfThinkingWithWait() {
        Scripted s = new Scripted(ReasoningFormat.THINK, "<think>\n", budget(null, 4));
        int end = tokenizer.encode("</think>")[0];
        s.sayAll("x");
        int[] queued = s.say(end); // one thinking token so far: too early
        assertArrayEquals(tokenizer.encode("Wait"), queued);
        s.sayAll(" y z");
        s.sayAll("</think>\n\n5");
        s.say(EOS);
        GenerationResult r = s.sequence.result();
        assertTrue(r.reasoning().startsWith("xWait y z"), r.reasoning());
        assertEquals("5", r.answer());
        assertTrue(r.thinkingTokens() >= 4, "thinking tokens " + r.thinkingTokens());
    }

    @Test
    void minimumAboveTheBudgetIsRejected() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> GenerationOptions.builder().maxThinkingTokens(4).minThinkingTokens(5).build());
        assertTrue(e.getMessage().contains("minThinkingTokens"), e.getMessage());
    }

    /** Token ids of a character the tokenizer writes as two or more tokens, the first an incomplete UTF-8 prefix. */
    private static int[] splitCharacter() {
        for (String c : List.of("𝔸", "🦜", "𓀀", "龘", "🜁", "𐍈")) {
            int[] ids = tokenizer.encode(c);
            if (ids.length >= 2 && tokenizer.decode(new int[] {ids[0]}).contains("\uFFFD")) {
                return ids;
            }
        }
        throw new AssertionError("no candidate character splits across tokens");
    }
}
