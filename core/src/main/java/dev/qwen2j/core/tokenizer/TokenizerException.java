package dev.qwen2j.core.tokenizer;

import java.io.IOException;
import java.nio.file.Path;

/** A tokenizer file that qwen2j cannot read or does not support; the message names the file and field. */
public final class TokenizerException extends IOException {

    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }

    static TokenizerException field(Path file, String field, String problem) {
        return new TokenizerException(file + ": field '" + field + "' " + problem);
    }
}
