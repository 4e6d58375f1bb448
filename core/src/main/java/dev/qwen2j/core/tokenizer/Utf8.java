package dev.qwen2j.core.tokenizer;

/**
 * UTF-8 to UTF-16 with Rust's {@code String::from_utf8_lossy} semantics (each maximal ill-formed
 * subsequence becomes one U+FFFD), which is what Hugging Face's decode does. Written out rather than
 * delegated to a {@code CharsetDecoder} because streaming needs to know where an unfinished character
 * starts, and because the replacement rule must match the Rust side exactly.
 */
final class Utf8 {

    private Utf8() {
    }

    /**
     * Decodes {@code bytes[from, to)} into {@code out}. When {@code endOfInput} is false and the bytes end in
     * the valid beginning of a multi-byte character, that beginning is left undecoded.
     *
     * @return the index just after the last decoded byte
     */
    static int decode(byte[] bytes, int from, int to, StringBuilder out, boolean endOfInput) {
        int i = from;
        while (i < to) {
            int b0 = bytes[i] & 0xFF;
            if (b0 < 0x80) {
                out.append((char) b0);
                i++;
                continue;
            }
            int width = b0 >= 0xC2 && b0 <= 0xDF ? 2 : b0 >= 0xE0 && b0 <= 0xEF ? 3 : b0 >= 0xF0 && b0 <= 0xF4 ? 4 : 0;
            if (width == 0) {
                out.append('\uFFFD');
                i++;
                continue;
            }
            // Count how many bytes after the lead are valid for this lead.
            int valid = 1;
            while (valid < width && i + valid < to && continues(b0, valid, bytes[i + valid] & 0xFF)) {
                valid++;
            }
            if (valid == width) {
                int cp = b0 & (0xFF >> (width + 1));
                for (int k = 1; k < width; k++) {
                    cp = (cp << 6) | (bytes[i + k] & 0x3F);
                }
                out.appendCodePoint(cp);
                i += width;
            } else if (i + valid == to && !endOfInput) {
                return i; // an unfinished character: wait for more bytes
            } else {
                out.append('\uFFFD');
                i += valid;
            }
        }
        return i;
    }

    /** Whether byte {@code b} may stand at position {@code index} (1..3) of a sequence led by {@code lead}. */
    private static boolean continues(int lead, int index, int b) {
        if (index == 1) {
            return switch (lead) {
                case 0xE0 -> b >= 0xA0 && b <= 0xBF;
                case 0xED -> b >= 0x80 && b <= 0x9F;
                case 0xF0 -> b >= 0x90 && b <= 0xBF;
                case 0xF4 -> b >= 0x80 && b <= 0x8F;
                default -> b >= 0x80 && b <= 0xBF;
            };
        }
        return b >= 0x80 && b <= 0xBF;
    }
}
