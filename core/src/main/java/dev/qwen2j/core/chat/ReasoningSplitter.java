package dev.qwen2j.core.chat;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits streamed model output into reasoning and answer by the markers of a {@link ReasoningFormat}: text between
 * the thought markers is reasoning, the rest is the answer (solution markers dropped). A marker split across pieces
 * is held back until it is complete, so markers never reach the sink; the line breaks right after a marker are
 * layout and are dropped too. One per generation; not thread-safe.
 */
public final class ReasoningSplitter {

    /** Where the two kinds of text go, piece by piece (never empty). */
    public interface Sink {
        void reasoning(String text);

        void answer(String text);
    }

    private final ReasoningFormat format;
    private final Sink sink;
    private final List<String> answerMarkers = new ArrayList<>(3);
    private final StringBuilder held = new StringBuilder();
    private final StringBuilder reasoning = new StringBuilder();
    private final StringBuilder answer = new StringBuilder();
    private boolean inReasoning;
    private boolean skipLeadingWhitespace;

    /**
     * @param startInReasoning true when the prompt already opened the thought
     *                         ({@link ReasoningFormat#promptOpensThought(String)})
     */
    public ReasoningSplitter(ReasoningFormat format, boolean startInReasoning, Sink sink) {
        this.format = format;
        this.sink = sink;
        this.inReasoning = startInReasoning && format.marksThinking();
        this.skipLeadingWhitespace = inReasoning;
        for (String marker : new String[] {format.thoughtStart(), format.solutionStart(), format.solutionEnd()}) {
            if (marker != null) {
                answerMarkers.add(marker);
            }
        }
    }

    /** True while the text is inside the thought. */
    public boolean inReasoning() {
        return inReasoning;
    }

    /** Takes the next piece of output. */
    public void accept(String piece) {
        if (!format.marksThinking() && answerMarkers.isEmpty()) {
            emit(piece);
            return;
        }
        held.append(piece);
        while (true) {
            List<String> markers = inReasoning ? List.of(format.thoughtEnd()) : answerMarkers;
            int at = -1;
            String found = null;
            for (String marker : markers) {
                int i = held.indexOf(marker);
                if (i >= 0 && (at < 0 || i < at)) {
                    at = i;
                    found = marker;
                }
            }
            if (found == null) {
                int keep = longestSuffixStartingAMarker(markers);
                emit(held.substring(0, held.length() - keep));
                held.delete(0, held.length() - keep);
                return;
            }
            emit(held.substring(0, at));
            held.delete(0, at + found.length());
            skipLeadingWhitespace = true;
            if (inReasoning || found.equals(format.thoughtStart())) {
                inReasoning = !inReasoning;
            }
        }
    }

    /** Emits whatever is still held back (an unfinished marker is plain text after all). */
    public void finish() {
        emit(held.toString());
        held.setLength(0);
    }

    /** All reasoning so far, without markers, stripped. */
    public String reasoning() {
        return reasoning.toString().strip();
    }

    /** All answer text so far, without markers, stripped. */
    public String answer() {
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

    private int longestSuffixStartingAMarker(List<String> markers) {
        int best = 0;
        int length = held.length();
        for (String marker : markers) {
            for (int k = Math.min(marker.length() - 1, length); k > best; k--) {
                if (held.indexOf(marker.substring(0, k), length - k) == length - k) {
                    best = k;
                    break;
                }
            }
        }
        return best;
    }
}
