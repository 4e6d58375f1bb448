package dev.qwen2j.core.config;

import java.io.IOException;
import java.nio.file.Path;

/** A missing, malformed or unsupported model configuration. The message names the file and field. */
public class ConfigException extends IOException {

    public ConfigException(String message) {
        super(message);
    }

    static ConfigException inField(Path file, String field, String problem) {
        return new ConfigException(file + ": " + field + ": " + problem);
    }
}
