package dev.qwen2j.core.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lossy UTF-8 decoder against the JDK's, which replaces each maximal ill-formed subpart with one U+FFFD
 * as the Unicode standard recommends (§3.9) and Rust's {@code from_utf8_lossy} does: every one- and two-byte
 * sequence, and three- and four-byte ones after each possible lead byte whose later bytes sit on either side of
 * each boundary the lead bytes impose. The one place the JDK departs from that practice is ED A0..BF (an encoded surrogate), checked apart.
 */
class Utf8Test {

    /** Both sides of every continuation-byte boundary (80, 8F/90, 9F/A0, BF/C0) and the ASCII edge. */
    private static final int[] EDGES = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};

    @Test
    void everyShortSequenceDecodesAsTheUnicodeStandardRecommends() {
        for (int b0 = 0; b0 < 256; b0++) {
            check(b0);
            for (int b1 = 0; b1 < 256; b1++) {
                check(b0, b1);
            }
            if (b0 < 0xC0) {
                continue; // ASCII or a stray continuation byte: one character, whatever follows (seen above)
            }
            for (int b1 : EDGES) {
                for (int b2 : EDGES) {
                    check(b0, b1, b2);
                    for (int b3 : EDGES) {
                        check(b0, b1, b2, b3);
                    }
                }
            }
        }
    }

    @Test
    void anEncodedSurrogateIsThreeReplacementCharacters() {
        // Unicode §3.9, table 3-9's example: ED A0 80 is three maximal subparts, since ED may not be followed by A0.
        for (int b1 = 0xA0; b1 <= 0xBF; b1++) {
            assertEquals("\uFFFD\uFFFD\uFFFD", decode(new byte[] {(byte) 0xED, (byte) b1, (byte) 0x80}, true));
            // not the start of any character, so nothing is held back for more bytes
            assertEquals("\uFFFD\uFFFD", decode(new byte[] {(byte) 0xED, (byte) b1}, false));
        }
        assertEquals("\uD7FF", decode(new byte[] {(byte) 0xED, (byte) 0x9F, (byte) 0xBF}, true));
    }

    @Test
    void theUnicodeStandardsExample() {
        byte[] bytes = {(byte) 0x61, (byte) 0xF1, (byte) 0x80, (byte) 0x80, (byte) 0xE1, (byte) 0x80, (byte) 0xC2,
                (byte) 0x62, (byte) 0x80, (byte) 0x63, (byte) 0x80, (byte) 0xBF, (byte) 0x64};
        assertEquals("a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd", decode(bytes, true));
    }

    /**
     * Whole-input decoding equals the JDK's; streaming ({@code endOfInput} false) holds back only the valid
     * start of an unfinished character, and decoding the rest once it is complete gives the same text.
     */
    private static void check(int... unsigned) {
        byte[] bytes = new byte[unsigned.length];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) unsigned[i];
        }
        java.util.function.Supplier<String> hex = () -> hex(bytes);
        String whole = decode(bytes, true);
        if (!encodesSurrogate(unsigned)) {
            assertEquals(new String(bytes, StandardCharsets.UTF_8), whole, hex);
        }
        StringBuilder streamed = new StringBuilder();
        int used = Utf8.decode(bytes, 0, bytes.length, streamed, false);
        int held = bytes.length - used;
        assertTrue(held >= 0 && held <= 3, () -> hex.get() + ": held back " + held);
        if (held > 0) {
            String rest = decode(java.util.Arrays.copyOfRange(bytes, used, bytes.length), true);
            assertEquals("\uFFFD", rest, () -> hex.get() + ": held back more than one unfinished character");
        }
        assertEquals(whole, streamed.append(decode(java.util.Arrays.copyOfRange(bytes, used, bytes.length), true))
                .toString(), () -> hex.get() + ": streamed");
    }

    private static boolean encodesSurrogate(int[] b) {
        for (int i = 0; i + 1 < b.length; i++) {
            if (b[i] == 0xED && b[i + 1] >= 0xA0 && b[i + 1] <= 0xBF) {
                return true;
            }
        }
        return false;
    }

    private static String decode(byte[] bytes, boolean endOfInput) {
        StringBuilder out = new StringBuilder();
        Utf8.decode(bytes, 0, bytes.length, out, endOfInput);
        return out.toString();
    }

    private static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        for (byte b : bytes) {
            sb.append(String.format("%02X ", b & 0xFF));
        }
        return sb.toString().trim();
    }
}
