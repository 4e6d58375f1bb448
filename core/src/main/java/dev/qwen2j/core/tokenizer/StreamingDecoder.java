package dev.qwen2j.core.tokenizer;

import java.util.Arrays;

/**
 * Turns generated token ids into text as they arrive, emitting only whole characters: bytes of a
 * character split across tokens wait until it is complete, so a multi-byte UTF-8 character or a
 * surrogate pair is never cut. The concatenation of everything returned by {@link #accept} and
 * {@link #finish} equals {@link Tokenizer#decode(int[], boolean)} of all ids. One per generation;
 * not thread-safe.
 */
public final class StreamingDecoder {

    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private byte[] pending = new byte[16];
    private int pendingLength;
    private final StringBuilder text = new StringBuilder();

    StreamingDecoder(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** Adds one token; returns the text it completes (often the token's own text, possibly ""). */
    public String accept(int id) {
        byte[] bytes = tokenizer.bytesOf(id, skipSpecialTokens);
        if (bytes == null || bytes.length == 0) {
            return "";
        }
        if (pendingLength + bytes.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + bytes.length));
        }
        System.arraycopy(bytes, 0, pending, pendingLength, bytes.length);
        pendingLength += bytes.length;
        return drain(false);
    }

    /** Flushes what is left: an unfinished character at the end becomes U+FFFD. */
    public String finish() {
        return drain(true);
    }

    private String drain(boolean endOfInput) {
        text.setLength(0);
        int used = Utf8.decode(pending, 0, pendingLength, text, endOfInput);
        System.arraycopy(pending, used, pending, 0, pendingLength - used);
        pendingLength -= used;
        return text.toString();
    }
}
