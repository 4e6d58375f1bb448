package dev.qwen2j.core.tokenizer;

/**
 * GPT-2's byte-level alphabet: every byte is shown as one printable character, so that BPE
 * tokens are strings. Printable Latin-1 bytes stand for themselves; the other 68 bytes are
 * mapped, in order, to U+0100 and up.
 */
final class ByteLevel {

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[324];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = (char) (printable ? b : next++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    static char charOf(int unsignedByte) {
        return BYTE_TO_CHAR[unsignedByte];
    }

    /** The byte a byte-level character stands for, or -1 if the character is not in the alphabet. */
    static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /**
     * The bytes a token stands for, as Hugging Face's ByteLevel decoder sees it: the mapped bytes when
     * every character is in the alphabet, otherwise the token's own UTF-8 (added tokens such as
     * {@code <|im_end|>} happen to be in the alphabet either way).
     */
    static byte[] tokenBytes(String token) {
        byte[] bytes = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            int b = byteOf(token.charAt(i));
            if (b < 0) {
                return token.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            }
            bytes[i] = (byte) b;
        }
        return bytes;
    }
}
