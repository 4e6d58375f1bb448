package dev.qwen2j.core.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.qwen2j.core.checkpoint.BundledTokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The bundled Qwen tokenizer unpacked once per test JVM, loaded by qwen2j and by DJL (the Rust oracle). */
final class TokenizerFixture {

    private static Path folder;
    private static Tokenizer qwen2j;
    private static HuggingFaceTokenizer djl;

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

    static synchronized Tokenizer qwen2j() {
        if (qwen2j == null) {
            try {
                qwen2j = Tokenizer.load(folder());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return qwen2j;
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
