package dev.qwen2j.core.tokenizer;

/**
 * The Qwen2 pre-tokenizer: splits text into the pieces that BPE then works on, exactly as the
 * Hugging Face tokenizer does with the {@link #PATTERN} regex (run by Oniguruma there).
 *
 * <p>Hand-written as a scanner rather than a {@link java.util.regex.Pattern}: it is many times faster,
 * and it pins down the Unicode classes the way Oniguruma reads them ({@code \s} is White_Space,
 * {@code \p{L}} and {@code \p{N}} are general categories). Each alternative of the regex is one
 * branch of {@link #pieceEnd}, tried in the regex's order.
 *
 * <p>Character classes come from the JDK's Unicode tables (Unicode 16 in JDK 25), the Rust side's from
 * Oniguruma's and the unicode-normalization crate's. A sweep of every assigned code point up to U+31FFF
 * against Hugging Face tokenizers (DJL 0.33) found 23 that differ, all recently encoded: the Kaktovik
 * numerals U+1D2C0..U+1D2D3 and three vowel signs (U+113C2, U+1611E, U+16D67).
 */
final class Qwen2PreTokenizer {

    /** The Split regex of Qwen2-family {@code tokenizer.json} files; only this one is supported. */
    static final String PATTERN =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final byte OTHER = 0, LETTER = 1, NUMBER = 2, SPACE = 3, NEWLINE = 4;
    private static final byte[] ASCII = new byte[128];

    static {
        for (int c = 0; c < 128; c++) {
            ASCII[c] = classifySlow(c);
        }
    }

    private Qwen2PreTokenizer() {
    }

    /** The end (exclusive, in chars) of the piece that starts at {@code start}; {@code start < end}. */
    static int pieceEnd(CharSequence s, int start, int end) {
        int c = Character.codePointAt(s, start);
        int afterC = start + Character.charCount(c);
        byte cls = classify(c);

        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if (c == '\'' && afterC < end) {
            int contraction = contractionEnd(s, afterC, end);
            if (contraction > 0) {
                return contraction;
            }
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (cls == LETTER) {
            return letterRunEnd(s, afterC, end);
        }
        if ((cls == OTHER || cls == SPACE) && afterC < end && classify(Character.codePointAt(s, afterC)) == LETTER) {
            return letterRunEnd(s, afterC, end);
        }
        // \p{N}
        if (cls == NUMBER) {
            return afterC;
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        int punctStart = -1;
        if (cls == OTHER) {
            punctStart = start;
        } else if (c == ' ' && afterC < end && classify(Character.codePointAt(s, afterC)) == OTHER) {
            punctStart = afterC;
        }
        if (punctStart >= 0) {
            int i = punctStart;
            while (i < end) {
                int p = Character.codePointAt(s, i);
                if (classify(p) != OTHER) {
                    break;
                }
                i += Character.charCount(p);
            }
            while (i < end && (s.charAt(i) == '\r' || s.charAt(i) == '\n')) {
                i++;
            }
            return i;
        }
        // Whitespace (all of it is in the BMP, so one char each).
        int runEnd = start;
        int lastNewline = -1;
        while (runEnd < end) {
            byte k = classify(s.charAt(runEnd));
            if (k == NEWLINE) {
                lastNewline = runEnd;
            } else if (k != SPACE) {
                break;
            }
            runEnd++;
        }
        // \s*[\r\n]+ : backtracks to just after the last line break of the run.
        if (lastNewline >= 0) {
            return lastNewline + 1;
        }
        // \s+(?!\S) : the whole run at the end of text, else all but its last character.
        if (runEnd == end || runEnd - start == 1) {
            return runEnd; // the latter case is the final \s+
        }
        return runEnd - 1;
    }

    private static int contractionEnd(CharSequence s, int i, int end) {
        char a = Character.toLowerCase(s.charAt(i));
        if (a == 's' || a == '\u017F' || a == 't' || a == 'm' || a == 'd') {
            return i + 1;
        }
        if (i + 1 < end) {
            char b = Character.toLowerCase(s.charAt(i + 1));
            if (((a == 'r' || a == 'v') && b == 'e') || (a == 'l' && b == 'l')) {
                return i + 2;
            }
        }
        return -1;
    }

    private static int letterRunEnd(CharSequence s, int i, int end) {
        while (i < end) {
            char ch = s.charAt(i);
            if (ch < 128) {
                if (ASCII[ch] != LETTER) {
                    break;
                }
                i++;
            } else {
                int p = Character.codePointAt(s, i);
                if (classifySlow(p) != LETTER) {
                    break;
                }
                i += Character.charCount(p);
            }
        }
        return i;
    }

    private static byte classify(int cp) {
        return cp < 128 ? ASCII[cp] : classifySlow(cp);
    }

    private static byte classifySlow(int cp) {
        if (cp == '\r' || cp == '\n') {
            return NEWLINE;
        }
        if (isWhiteSpace(cp)) {
            return SPACE;
        }
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            default -> OTHER;
        };
    }

    /** Unicode White_Space, which is what Oniguruma's {@code \s} matches in UTF-8 mode. */
    static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }
}
