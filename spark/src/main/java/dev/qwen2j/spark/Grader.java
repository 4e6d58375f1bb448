package dev.qwen2j.spark;

import dev.qwen2j.model.AnswerExtractor;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds a sample's final answer and grades it against the reference: the last complete {@code \boxed{…}} (braces
 * nested inside kept), else the last number, else the whole answer; equal after normalisation, numbers compared
 * numerically ({@code 837}, {@code 837.0} and {@code 1,000} vs {@code 1000} match).
 *
 * <p>{@code \boxed{}} and the whole answer come from the model module's {@link AnswerExtractor}; the last number is
 * kept as written (with its thousands commas), where {@code AnswerExtractor.lastNumber()} drops them for voting.
 */
public final class Grader {

    private static final Pattern NUMBER = Pattern.compile("-?\\d+(?:,\\d{3})*(?:\\.\\d+)?");
    private static final Pattern WHOLE_NUMBER = Pattern.compile("[-+]?(?:\\d+(?:,\\d{3})*|\\d*)(?:\\.\\d+)?");
    private static final AnswerExtractor BOXED = AnswerExtractor.boxed();

    private Grader() {
    }

    /** The final answer in {@code answerText}, or null when the text is blank. */
    public static String extract(String answerText) {
        String boxed = lastBoxed(answerText);
        if (boxed != null) {
            return boxed;
        }
        String number = null; // as written, thousands commas kept: the row shows what the model wrote
        Matcher m = NUMBER.matcher(answerText);
        while (m.find()) {
            number = m.group();
        }
        return number != null ? number : AnswerExtractor.whole().extract(answerText);
    }

    /** The contents of the last complete {@code \boxed{…}}, stripped, or null when there is none. */
    static String lastBoxed(String text) {
        return BOXED.extract(text);
    }

    /** Whether {@code extracted} matches {@code reference}; null when there is no reference to grade against. */
    public static Boolean grade(String extracted, String reference) {
        if (reference == null) {
            return null;
        }
        return extracted != null && normalise(extracted).equals(normalise(reference));
    }

    /**
     * The comparable form of an answer: {@code \boxed{}} unwrapped, surrounding {@code $} and a final period
     * dropped, whitespace collapsed, lower case; a number becomes its plain decimal form without trailing zeros.
     */
    public static String normalise(String answer) {
        String s = answer.strip();
        String boxed = lastBoxed(s);
        if (boxed != null) {
            s = boxed;
        }
        s = stripAround(s, "$");
        if (s.endsWith(".")) {
            s = s.substring(0, s.length() - 1);
        }
        s = s.replaceAll("\\s+", " ").strip().toLowerCase(Locale.ROOT);
        if (!s.isEmpty() && WHOLE_NUMBER.matcher(s).matches() && s.chars().anyMatch(Character::isDigit)) {
            BigDecimal number = new BigDecimal(s.replace(",", "").replace("+", ""));
            return number.signum() == 0 ? "0" : number.stripTrailingZeros().toPlainString();
        }
        return s;
    }

    private static String stripAround(String s, String mark) {
        while (s.length() >= 2 * mark.length() && s.startsWith(mark) && s.endsWith(mark)) {
            s = s.substring(mark.length(), s.length() - mark.length()).strip();
        }
        return s;
    }
}
