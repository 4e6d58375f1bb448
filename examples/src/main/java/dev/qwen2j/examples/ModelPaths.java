package dev.qwen2j.examples;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * What {@code --model} accepts on every command: a Hugging Face model folder, or {@code demo} for the built-in
 * demo model (a folder that happens to be called "demo" is reached as {@code ./demo}).
 */
public final class ModelPaths {

    /** The {@code --model} value that selects the built-in demo model. */
    public static final String DEMO = "demo";

    private ModelPaths() {
    }

    /** Fails on an empty {@code --model}, which would otherwise mean the current folder. */
    static void requireNamed(String model) {
        if (model.isBlank()) {
            throw new IllegalArgumentException("--model must name a model folder or 'demo', got '" + model + "'");
        }
    }

    /**
     * The model folder for a {@code --model} value.
     *
     * @throws IOException when the folder does not exist or is not a folder, or the demo cannot be unpacked
     */
    public static Path resolve(String model) throws IOException {
        requireNamed(model);
        if (DEMO.equals(model)) {
            return DemoModel.folder();
        }
        Path folder = Path.of(model);
        if (Files.notExists(folder)) { // not !exists: a folder behind a closed door is "permission denied", below
            throw new NoSuchFileException(folder.toString(), null,
                    "no such model folder (give a Hugging Face model folder, or 'demo')");
        }
        if (!Files.exists(folder)) {
            throw new AccessDeniedException(folder.toString(), null, "permission denied: cannot reach the model folder");
        }
        if (!Files.isDirectory(folder)) {
            throw new IOException(folder + ": not a folder (give the model folder, not one of its files)");
        }
        return folder;
    }
}
