package dev.qwen2j.core.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.qwen2j.core.checkpoint.BundledTokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The bundled Qwen tokenizer unpacked once per test JVM, loaded by qwen2j and by DJL (the Rust oracle). */
final class TokenizerFixture {

    private static Path folder;
    private static Tokenizer qwen2j;
    private static HuggingFaceTokenizer djl;
    private static final Map<String, int[]> DJL_IDS = new ConcurrentHashMap<>();

    private TokenizerFixture() {
    }

    static synchronized Path folder() {
        if (folder == null) {
            try {
                Path dir = Files.createTempDirectory("qwen2j-tokenizer");
                BundledTokenizer.copyTo(dir);
                for (Path p : List.of(dir, dir.resolve("tokenizer.json"), dir.resolve("tokenizer_config.json"))) {
                    p.toFile().deleteOnExit();
                }
                folder = dir;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return folder;
    }

    /**
     * The shared tokenizer with its piece cache emptied: under PIT one JVM runs the tests against one mutant after
     * another, and pieces cached under an earlier mutant would hide (or fake) what the current one does.
     */
    static synchronized Tokenizer qwen2j() {
        if (qwen2j == null) {
            try {
                qwen2j = Tokenizer.load(folder());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        qwen2j.clearCache();
        return qwen2j;
    }

    /**
     * The Rust tokenizer's ids for {@code text}, each text encoded once per JVM: the oracle does not change while
     * PIT mutates qwen2j, and encoding the megabyte corpus through DJL again for every mutant dominated the run.
     */
    static int[] djlIds(String text) {
        return DJL_IDS.computeIfAbsent(text, t -> {
            long[] ids = djl().encode(t).getIds();
            int[] out = new int[ids.length];
            for (int i = 0; i < ids.length; i++) {
                out[i] = Math.toIntExact(ids[i]);
            }
            return out;
        });
    }

    /** Hugging Face's Rust tokenizer through DJL: no added special tokens, no truncation, no padding. */
    static synchronized HuggingFaceTokenizer djl() {
        if (djl == null) {
            try {
                djl = HuggingFaceTokenizer.builder()
                        .optTokenizerPath(folder())
                        .optAddSpecialTokens(false)
                        .optTruncation(false)
                        .optPadding(false)
                        .optMaxLength(Integer.MAX_VALUE / 2)
                        .build();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return djl;
    }
}
