package dev.qwen2j.core.tokenizer;

import org.junit.jupiter.api.Test;

import java.text.Normalizer;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Token-exact parity with Hugging Face's Rust tokenizer (loaded through DJL from the same folder).
 */
class TokenizerParityTest {

    private final Tokenizer tokenizer = TokenizerFixture.qwen2j();

    @Test
    void namedCasesEncodeLikeHuggingFaceAndRoundTrip() {
        for (Map.Entry<String, String> c : TokenizerCorpus.cases().entrySet()) {
            assertParity(c.getKey(), c.getValue());
        }
    }

    @Test
    void oneMegabyteOfMixedText() {
        assertParity("1 MB", TokenizerCorpus.oneMegabyte());
    }

    @Test
    void randomUnicodeFromSeveralBlocks() {
        SplittableRandom random = new SplittableRandom(20241123);
        for (int i = 0; i < 2000; i++) {
            assertParity("random #" + i, TokenizerCorpus.randomText(random, 60));
        }
    }

    @Test
    void loneSurrogatesReadAsReplacementCharacters() {
        // Java strings can hold unpaired surrogates; Rust strings cannot. qwen2j reads each one as U+FFFD,
        // as Rust's String::from_utf16_lossy would. DJL's JNI bridge passes modified UTF-8 and turns one
        // lone surrogate into three U+FFFD, so the oracle here is DJL on the text with U+FFFD put in.
        String[] texts = {"\uD800", "a\uDC00b", "x \uD83D y", "\uDE00\uD83D", "ok \uD83D\uDE00 \uD83D", "'\uDBFF's"};
        for (String text : texts) {
            int[] expected = djlIds(Tokenizer.withoutLoneSurrogates(text));
            assertArrayEquals(expected, tokenizer.encode(text), () -> "lone surrogates in " + escape(text));
            assertEquals(Tokenizer.withoutLoneSurrogates(text), tokenizer.decode(tokenizer.encode(text)));
        }
    }

    private void assertParity(String name, String text) {
        int[] ids = tokenizer.encode(text);
        int[] expected = djlIds(text);
        if (!Arrays.equals(expected, ids)) {
            assertArrayEquals(expected, ids, () -> name + ": ids differ for " + escape(text));
        }
        String decoded = tokenizer.decode(ids);
        String nfc = Normalizer.normalize(text, Normalizer.Form.NFC);
        if (!nfc.equals(decoded)) {
            assertEquals(escape(nfc), escape(decoded), () -> name + ": decode(encode(s)) != NFC(s)");
        }
    }

    private static int[] djlIds(String text) {
        return TokenizerFixture.djlIds(text);
    }

    static String escape(String s) {
        if (s.length() > 300) {
            s = s.substring(0, 300) + "…";
        }
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp >= 0x20 && cp < 0x7F) {
                sb.appendCodePoint(cp);
            } else {
                sb.append(String.format("\\u{%X}", cp));
            }
        });
        return sb.append('"').toString();
    }
}
