package dev.qwen2j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class GraderTest {

    @Test
    void extractsBoxedThenLastNumberThenWholeAnswer() {
        assertEquals("\\frac{1}{2}", Grader.extract("so \\boxed{1} no, \\boxed{\\frac{1}{2}}"));
        assertEquals("837", Grader.extract("first 12, then 837"));
        assertEquals("-1,234.5", Grader.extract("it is -1,234.5."));
        assertEquals("blue", Grader.extract("  blue "));
        assertNull(Grader.extract(" "));
        assertEquals("7", Grader.extract("\\boxed{unclosed 7"), "an unclosed box is not an answer");
    }

    @Test
    void gradesAfterNormalisationNumbersNumerically() {
        assertEquals(true, Grader.grade("837", "\\boxed{837}"));
        assertEquals(true, Grader.grade("837.0", "$837$"));
        assertEquals(true, Grader.grade("1,000", "1000"));
        assertEquals(true, Grader.grade("Blue.", "blue"));
        assertEquals(true, Grader.grade("-0", "0.00"));
        assertEquals(false, Grader.grade("838", "837"));
        assertEquals(false, Grader.grade(null, "837"));
        assertNull(Grader.grade("837", null));
    }

    @Test
    void splitsReasoningFromAnswer() {
        assertEquals(new Trace("8+9=17", "837"), Trace.split("<think>\n8+9=17\n</think>\n\n837"));
        assertEquals(new Trace("opened by the template", "42"), Trace.split("opened by the template</think>42"));
        assertEquals(new Trace("cut off", ""), Trace.split("<think>cut off"));
        assertEquals(new Trace("", "no tags"), Trace.split("no tags"));
    }
}
