package dev.qwen2j.core.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ReasoningSplitterTest {

    /** Renders reasoning as [r:...] and answer as [a:...], one bracket per piece. */
    private static String split(ReasoningFormat format, boolean startInReasoning, String... pieces) {
        StringBuilder out = new StringBuilder();
        ReasoningSplitter splitter = new ReasoningSplitter(format, startInReasoning, new ReasoningSplitter.Sink() {
            @Override
            public void reasoning(String text) {
                out.append("[r:").append(text).append(']');
            }

            @Override
            public void answer(String text) {
                out.append("[a:").append(text).append(']');
            }
        });
        for (String piece : pieces) {
            splitter.accept(piece);
        }
        splitter.finish();
        return out.toString();
    }

    @Test
    void thinkMarkersSplitAcrossPieces() {
        assertEquals("[r:8+9=17\n][a:837]",
                split(ReasoningFormat.THINK, false, "<thi", "nk>\n8+9=17\n</", "think>\n\n837"));
    }

    @Test
    void skyT1ThoughtAndSolutionMarkers() {
        assertEquals("[r:hmm][a:42]", split(ReasoningFormat.SKY_T1, false,
                "<|begin_of_thought|>hmm<|end_of", "_thought|>\n<|begin_of_solution|>42<|end_of_solution|>"));
    }

    @Test
    void promptThatAlreadyOpenedTheThought() {
        // DeepSeek-R1-Distill's template ends the prompt with "<think>\n": the output starts inside the thought.
        assertEquals("[r:so 2][a:4]", split(ReasoningFormat.THINK, true, "so 2</think>", "4"));
    }

    @Test
    void noMarkersIsAllAnswerAndAnUnfinishedMarkerIsText() {
        assertEquals("[a:a < b][a:<thi]", split(ReasoningFormat.THINK, false, "a < b", "<thi"));
        assertEquals("[a:<think>x</think>y]", split(ReasoningFormat.NONE, true, "<think>x</think>y"));
    }

    @Test
    void skyT1MarkersAreTextForTheThinkFormat() {
        assertEquals("[a:<|begin_of_thought|>x]", split(ReasoningFormat.THINK, false, "<|begin_of_thought|>x"));
    }

    @Test
    void resultsAreStrippedAndStateIsVisible() {
        ReasoningSplitter splitter = new ReasoningSplitter(ReasoningFormat.THINK, false, new ReasoningSplitter.Sink() {
            @Override
            public void reasoning(String text) {
            }

            @Override
            public void answer(String text) {
            }
        });
        splitter.accept("<think>\n a \n");
        assertTrue(splitter.inReasoning());
        splitter.accept("</think>\n\n b \n");
        assertFalse(splitter.inReasoning());
        splitter.finish();
        assertEquals("a", splitter.reasoning());
        assertEquals("b", splitter.answer());
    }

    @Test
    void formatsAreDetectedFromTemplateAndPrompt() {
        assertEquals(ReasoningFormat.THINK, ReasoningFormat.detect("... '<think>\\n' ...", "<|im_start|>user\nhi"));
        assertEquals(ReasoningFormat.SKY_T1, ReasoningFormat.detect("{{ messages }}",
                "<|im_start|>system\n" + SystemPrompts.named("sky-t1") + "<|im_end|>"));
        assertEquals(ReasoningFormat.NONE, ReasoningFormat.detect("{{ messages }}", "<|im_start|>user\nhi"));
        assertTrue(ReasoningFormat.THINK.promptOpensThought("<｜Assistant｜><think>\n"));
        assertFalse(ReasoningFormat.THINK.promptOpensThought("<|im_start|>assistant\n"));
        assertEquals(ReasoningFormat.SKY_T1, ReasoningFormat.named("sky-t1"));
    }
}
