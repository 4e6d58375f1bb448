package dev.qwen2j.examples;

import java.util.List;

/**
 * Splits streamed model output into reasoning and answer: text between {@code <think>} and {@code </think>}
 * (QwQ, DeepSeek-R1-Distill) or {@code <|begin_of_thought|>} and {@code <|end_of_thought|>} (Sky-T1) is
 * reasoning, the rest is the answer. A tag split across pieces is held back until it is complete, so the tags
 * themselves never reach the sink.
 */
final class ReasoningSplitter {

    /** Where the two kinds of text go, piece by piece. */
    interface Sink {
        void reasoning(String text);

        void answer(String text);
    }

    private static final List<String> OPEN = List.of("<think>", "<|begin_of_thought|>");
    private static final List<String> CLOSE = List.of("</think>", "<|end_of_thought|>");

    private final Sink sink;
    private final StringBuilder held = new StringBuilder();
    private final StringBuilder reasoning = new StringBuilder();
    private final StringBuilder answer = new StringBuilder();
    private boolean inReasoning;
    /** Right after a tag: the line breaks that separate reasoning from answer are not shown. */
    private boolean skipLeadingWhitespace;

    /**
     * @param startInReasoning true when the prompt already opened the reasoning (templates that end the
     *                         generation prompt with {@code <think>\n}, as DeepSeek-R1-Distill's and QwQ's do)
     */
    ReasoningSplitter(boolean startInReasoning, Sink sink) {
        this.inReasoning = startInReasoning;
        this.skipLeadingWhitespace = startInReasoning;
        this.sink = sink;
    }

    void accept(String piece) {
        held.append(piece);
        while (true) {
            List<String> tags = inReasoning ? CLOSE : OPEN;
            int at = -1;
            int length = 0;
            for (String tag : tags) {
                int i = held.indexOf(tag);
                if (i >= 0 && (at < 0 || i < at)) {
                    at = i;
                    length = tag.length();
                }
            }
            if (at < 0) {
                int keep = longestSuffixStartingATag(tags);
                emit(held.substring(0, held.length() - keep));
                held.delete(0, held.length() - keep);
                return;
            }
            emit(held.substring(0, at));
            held.delete(0, at + length);
            skipLeadingWhitespace = true; // the line breaks around tags are layout, not content
            inReasoning = !inReasoning;
        }
    }

    /** Emits whatever is still held back (an unfinished tag is plain text after all). */
    void finish() {
        emit(held.toString());
        held.setLength(0);
    }

    /** All reasoning so far, without tags. */
    String reasoning() {
        return reasoning.toString().strip();
    }

    /** All answer text so far, without tags. */
    String answer() {
        return answer.toString().strip();
    }

    private void emit(String text) {
        if (skipLeadingWhitespace) {
            text = text.stripLeading();
            skipLeadingWhitespace = text.isEmpty();
        }
        if (text.isEmpty()) {
            return;
        }
        if (inReasoning) {
            reasoning.append(text);
            sink.reasoning(text);
        } else {
            answer.append(text);
            sink.answer(text);
        }
    }

    private int longestSuffixStartingATag(List<String> tags) {
        int best = 0;
        for (String tag : tags) {
            for (int k = Math.min(tag.length() - 1, held.length()); k > best; k--) {
                if (held.substring(held.length() - k).equals(tag.substring(0, k))) {
                    best = k;
                    break;
                }
            }
        }
        return best;
    }
}
