package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ReasoningSplitterTest {

    /** Renders reasoning as [r:...] and answer as [a:...], one bracket per piece. */
    private static String split(boolean startInReasoning, String... pieces) {
        StringBuilder out = new StringBuilder();
        ReasoningSplitter splitter = new ReasoningSplitter(startInReasoning, new ReasoningSplitter.Sink() {
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
    void thinkTagsSplitAcrossPieces() {
        assertEquals("[r:8+9=17\n][a:837]", split(false, "<thi", "nk>\n8+9=17\n</", "think>\n\n837"));
    }

    @Test
    void skyT1ThoughtTags() {
        assertEquals("[r:hmm][a:<|begin_of_solution|>42]",
                split(false, "<|begin_of_thought|>hmm<|end_of", "_thought|>\n<|begin_of_solution|>42"));
    }

    @Test
    void promptThatAlreadyOpenedTheReasoning() {
        assertEquals("[r:so 2][a:4]", split(true, "so 2</think>", "4"));
    }

    @Test
    void noTagsIsAllAnswerAndAnUnfinishedTagIsText() {
        assertEquals("[a:a < b][a:<thi]", split(false, "a < b", "<thi"));
    }
}
