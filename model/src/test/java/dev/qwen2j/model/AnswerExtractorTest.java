package dev.qwen2j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class AnswerExtractorTest {

    private final AnswerExtractor defaults = AnswerExtractor.defaults();

    @Test
    void boxedWithNestedBracesWins() {
        assertEquals("\\frac{1}{2}", defaults.extract("so x = 3, hence \\boxed{\\frac{1}{2}} (not 7)"));
        assertEquals("{a}", defaults.extract("\\boxed{1} then \\boxed{ {a} }"));
    }

    @Test
    void anUnclosedBoxFallsBackToTheLastNumber() {
        assertEquals("12", defaults.extract("\\boxed{\\frac{12"));
    }

    @Test
    void lastNumberThenWholeAnswer() {
        assertEquals("837", defaults.extract("first 12, then 837."));
        assertEquals("-1234.5", defaults.extract("it is -1,234.5"));
        assertEquals("blue", defaults.extract("  blue \n"));
        assertNull(defaults.extract("  \n"));
    }

    @Test
    void extractorsArePluggable() {
        AnswerExtractor firstWord = text -> text.isBlank() ? null : text.strip().split("[\\s,]+")[0];
        assertEquals("Paris", firstWord.extract("Paris, 2 times"));
        assertEquals("x", AnswerExtractor.boxed().orElse(text -> "x").extract("no box"));
    }

    private static GenerationResult answered(String answer) {
        return new GenerationResult(answer, FinishReason.EOS, 1, 1, 1, 1, "", answer, 0, 0);
    }

    private static SelfConsistencyResult vote(String... answers) {
        return SelfConsistencyResult.vote(Arrays.stream(answers).map(AnswerExtractorTest::answered).toList(),
                AnswerExtractor.defaults(), 0);
    }

    @Test
    void majorityWithVotesAndAgreement() {
        SelfConsistencyResult r = vote("the sum is 5", "5", "\\boxed{6}", "5", "");
        assertEquals("5", r.answer());
        assertEquals(3, r.votes());
        assertEquals(0.6, r.agreement(), 1e-12);
        assertEquals(Arrays.asList("5", "5", "6", "5", null), r.answers());
    }

    @Test
    void tiesGoToTheAnswerGivenFirst() {
        assertEquals("7", vote("7", "8", "8", "7").answer());
        assertEquals("8", vote("8", "7", "7", "8").answer());
        SelfConsistencyResult none = vote("", " ");
        assertNull(none.answer());
        assertEquals(0, none.votes());
        assertEquals(List.of(), SelfConsistencyResult.vote(List.of(), AnswerExtractor.defaults(), 0).samples());
    }
}
