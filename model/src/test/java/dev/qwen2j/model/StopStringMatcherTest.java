package dev.qwen2j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StopStringMatcherTest {

    /** Feeds the pieces, returns what a listener would have received (joined by '|') plus the flushed rest. */
    private static String stream(List<String> stops, String... pieces) {
        StopStringMatcher matcher = new StopStringMatcher(stops);
        StringBuilder out = new StringBuilder();
        for (String piece : pieces) {
            String safe = matcher.accept(piece);
            if (!safe.isEmpty()) {
                out.append(safe).append('|');
            }
        }
        String rest = matcher.finish();
        if (!rest.isEmpty()) {
            out.append(rest).append('|');
        }
        return out + (matcher.stopped() ? "STOP" : "END");
    }

    @Test
    void withoutStopStringsEverythingPassesAtOnce() {
        assertEquals("a|bc|END", stream(List.of(), "a", "", "bc"));
    }

    @Test
    void stopStringInsideOnePieceCutsBeforeIt() {
        assertEquals("hello |STOP", stream(List.of("END"), "hello END and more", "ignored"));
    }

    @Test
    void stopStringSplitAcrossPiecesIsHeldBackAndNeverEmitted() {
        assertEquals("ab|STOP", stream(List.of("</answer>"), "ab</", "ans", "wer>", "tail"));
    }

    @Test
    void heldTextThatTurnsOutNotToBeAStopIsReleased() {
        assertEquals("ab|</answer!|END", stream(List.of("</answer>"), "ab</", "an", "swer", "!"));
        assertEquals("x|<|y|END", stream(List.of("<|im_end|>"), "x<", "|y"));
    }

    @Test
    void heldTextIsFlushedAtTheEnd() {
        assertEquals("done|<|im|END", stream(List.of("<|im_end|>"), "done<|im"));
    }

    @Test
    void theEarliestOfSeveralStopStringsWins() {
        assertEquals("1 |STOP", stream(List.of("three", "two"), "1 two three"));
        assertEquals("a|STOP", stream(List.of("bcd", "b"), "a", "bc"));
    }

    @Test
    void stopStringAtTheVeryStart() {
        assertEquals("STOP", stream(List.of("\n\n"), "\n", "\nrest"));
    }

    @Test
    void randomSplitsGiveTheSameTextAsOneWholePiece() {
        String text = "The answer is <b>42</b> and then STOP here, STOP again";
        List<String> stops = List.of("STOP", "</b> and then X");
        Random random = new Random(9);
        for (int trial = 0; trial < 200; trial++) {
            StopStringMatcher matcher = new StopStringMatcher(stops);
            StringBuilder out = new StringBuilder();
            int i = 0;
            while (i < text.length() && !matcher.stopped()) {
                int j = Math.min(text.length(), i + 1 + random.nextInt(6));
                out.append(matcher.accept(text.substring(i, j)));
                i = j;
            }
            out.append(matcher.finish());
            assertTrue(matcher.stopped());
            assertEquals("The answer is <b>42</b> and then ", out.toString(), "trial " + trial);
        }
    }

    @Test
    void emptyStopStringIsRejected() {
        var error = assertThrows(IllegalArgumentException.class, () -> new StopStringMatcher(List.of("")));
        assertTrue(error.getMessage().contains("stopStrings"));
        assertFalse(new StopStringMatcher(List.of("x")).stopped());
    }
}
