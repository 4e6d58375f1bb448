package dev.qwen2j.core.safetensors;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file or checkpoint folder that breaks the format. The message always names the file
 * and, where one is involved, the tensor or header field.
 */
public class SafetensorsFormatException extends IOException {

    public SafetensorsFormatException(String message) {
        super(message);
    }

    public SafetensorsFormatException(String message, Throwable cause) {
        super(message, cause);
    }

    static SafetensorsFormatException inFile(Path file, String problem) {
        return new SafetensorsFormatException(file + ": " + problem);
    }

    static SafetensorsFormatException inTensor(Path file, String tensor, String problem) {
        return new SafetensorsFormatException(file + ": tensor '" + tensor + "': " + problem);
    }
}
