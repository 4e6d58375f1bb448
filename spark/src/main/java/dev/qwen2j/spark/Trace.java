package dev.qwen2j.spark;

import java.util.List;

/**
 * A generated text split into reasoning and answer. The reasoning lies between {@code <think>} and
 * {@code </think>} (QwQ, DeepSeek-R1-Distill; {@code <|begin_of_thought|>} / {@code <|end_of_thought|>} for
 * Sky-T1); a close tag without an open one means the template opened the reasoning in the prompt. A trace cut off
 * before its close tag is all reasoning and has no answer.
 */
public record Trace(String reasoning, String answer) {

    private static final List<String> OPEN = List.of("<think>", "<|begin_of_thought|>");
    private static final List<String> CLOSE = List.of("</think>", "<|end_of_thought|>");

    /** Splits {@code text} at the first close tag (or, lacking one, treats an opened reasoning as unfinished). */
    public static Trace split(String text) {
        for (String close : CLOSE) {
            int at = text.indexOf(close);
            if (at >= 0) {
                return new Trace(withoutOpenTag(text.substring(0, at)).strip(), text.substring(at + close.length()).strip());
            }
        }
        for (String open : OPEN) {
            int at = text.indexOf(open);
            if (at >= 0) {
                return new Trace(text.substring(at + open.length()).strip(), "");
            }
        }
        return new Trace("", text.strip());
    }

    private static String withoutOpenTag(String reasoning) {
        for (String open : OPEN) {
            int at = reasoning.indexOf(open);
            if (at >= 0) {
                return reasoning.substring(at + open.length());
            }
        }
        return reasoning;
    }
}
