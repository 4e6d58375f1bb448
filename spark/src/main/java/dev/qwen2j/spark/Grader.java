package dev.qwen2j.spark;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds a sample's final answer and grades it against the reference: the last complete {@code \boxed{…}} (braces
 * nested inside kept), else the last number, else the whole answer; equal after normalisation, numbers compared
 * numerically ({@code 837}, {@code 837.0} and {@code 1,000} vs {@code 1000} match).
 *
 * <p>The extraction has the shape of the model module's {@code AnswerExtractor} (issue 11, not on main yet): once
 * that lands, {@link #extract} can delegate to {@code AnswerExtractor.defaults()} and this class keeps only the
 * grading.
 */
public final class Grader {

    private static final Pattern NUMBER = Pattern.compile("-?\\d+(?:,\\d{3})*(?:\\.\\d+)?");
    private static final Pattern WHOLE_NUMBER = Pattern.compile("[-+]?(?:\\d+(?:,\\d{3})*|\\d*)(?:\\.\\d+)?");
    private static final String BOXED = "\\boxed{";

    private Grader() {
    }

    /** The final answer in {@code answerText}, or null when the text is blank. */
    public static String extract(String answerText) {
        String boxed = lastBoxed(answerText);
        if (boxed != null) {
            return boxed;
        }
        String number = null;
        Matcher m = NUMBER.matcher(answerText);
        while (m.find()) {
            number = m.group();
        }
        if (number != null) {
            return number;
        }
        String whole = answerText.strip();
        return whole.isEmpty() ? null : whole;
    }

    /** The contents of the last complete {@code \boxed{…}}, stripped, or null when there is none. */
    static String lastBoxed(String text) {
        String found = null;
        for (int at = text.indexOf(BOXED); at >= 0; at = text.indexOf(BOXED, at + 1)) {
            int start = at + BOXED.length();
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
