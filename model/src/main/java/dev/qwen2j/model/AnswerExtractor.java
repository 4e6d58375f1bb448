package dev.qwen2j.model;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the final answer in a sample's answer text, for voting over samples. The default, {@link #defaults()}, takes
 * the last {@code \boxed{…}} (braces nested inside it are kept), else the last number, else the whole answer.
 */
@FunctionalInterface
public interface AnswerExtractor {

    /** The answer found in {@code answer}, or null when there is none (that sample does not vote). */
    String extract(String answer);

    /** This extractor, and where it finds nothing, {@code next}. */
    default AnswerExtractor orElse(AnswerExtractor next) {
        return text -> {
            String found = extract(text);
            return found != null ? found : next.extract(text);
        };
    }

    /** {@code \boxed{…}}, then the last number, then the whole answer. */
    static AnswerExtractor defaults() {
        return boxed().orElse(lastNumber()).orElse(whole());
    }

    /** The contents of the last complete {@code \boxed{…}}, braces inside it balanced, stripped; else null. */
    static AnswerExtractor boxed() {
        return text -> {
            String found = null;
            for (int at = text.indexOf("\\boxed{"); at >= 0; at = text.indexOf("\\boxed{", at + 1)) {
                int start = at + "\\boxed{".length();
                int depth = 1;
                int i = start;
                for (; i < text.length() && depth > 0; i++) {
                    char c = text.charAt(i);
                    if (c == '{') {
                        depth++;
                    } else if (c == '}') {
                        depth--;
                    }
                }
                if (depth == 0) {
                    found = text.substring(start, i - 1).strip();
                }
            }
            return found;
        };
    }

    /** The last number (an optional minus, digits, thousands commas dropped, an optional fraction); else null. */
    static AnswerExtractor lastNumber() {
        Pattern number = Pattern.compile("-?\\d+(?:,\\d{3})*(?:\\.\\d+)?");
        return text -> {
            Matcher m = number.matcher(text);
            String last = null;
            while (m.find()) {
                last = m.group();
            }
            return last == null ? null : last.replace(",", "");
        };
    }

    /** The whole answer, stripped; null when it is blank. */
    static AnswerExtractor whole() {
        return text -> text.isBlank() ? null : text.strip();
    }
}
