package dev.qwen2j.core.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPInputStream;

/** The bundled Qwen tokenizer unpacked once per test JVM, loaded by qwen2j and by DJL (the Rust oracle). */
final class TokenizerFixture {

    private static final String RESOURCE = "/dev/qwen2j/core/tokenizer/qwen/";
    private static Path folder;
    private static Tokenizer qwen2j;
    private static HuggingFaceTokenizer djl;

    private TokenizerFixture() {
    }

    static synchronized Path folder() {
        if (folder == null) {
            try {
                Path dir = Files.createTempDirectory("qwen2j-tokenizer");
                dir.toFile().deleteOnExit();
                try (InputStream in = new GZIPInputStream(resource("tokenizer.json.gz"))) {
                    Files.copy(in, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
                }
                try (InputStream in = resource("tokenizer_config.json")) {
                    Files.copy(in, dir.resolve("tokenizer_config.json"), StandardCopyOption.REPLACE_EXISTING);
                }
                dir.resolve("tokenizer.json").toFile().deleteOnExit();
                dir.resolve("tokenizer_config.json").toFile().deleteOnExit();
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

    private static InputStream resource(String name) throws IOException {
        InputStream in = TokenizerFixture.class.getResourceAsStream(RESOURCE + name);
        if (in == null) {
            throw new IOException("missing resource " + RESOURCE + name);
        }
        return in;
    }
}
