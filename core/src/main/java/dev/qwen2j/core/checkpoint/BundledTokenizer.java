package dev.qwen2j.core.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPInputStream;

/**
 * The Qwen2/Qwen2.5 tokenizer files shipped as a resource (see the NOTICE next to them), for folders
 * written by {@link RandomQwen2Checkpoint} and the demo model.
 */
public final class BundledTokenizer {

    private static final String RESOURCE_DIR = "/dev/qwen2j/core/tokenizer/qwen/";

    private BundledTokenizer() {
    }

    /** Writes {@code tokenizer.json} and {@code tokenizer_config.json} into {@code folder} (created if needed). */
    public static void copyTo(Path folder) throws IOException {
        Files.createDirectories(folder);
        try (InputStream gz = open("tokenizer.json.gz"); InputStream json = new GZIPInputStream(gz, 1 << 16)) {
            copyAtomically(json, folder.resolve("tokenizer.json"));
        }
        try (InputStream config = open("tokenizer_config.json")) {
            copyAtomically(config, folder.resolve("tokenizer_config.json"));
        }
    }

    private static InputStream open(String name) {
        InputStream in = BundledTokenizer.class.getResourceAsStream(RESOURCE_DIR + name);
        if (in == null) {
            throw new UncheckedIOException(new IOException("resource " + RESOURCE_DIR + name
                    + " is missing from the qwen2j-core jar"));
        }
        return in;
    }

    private static void copyAtomically(InputStream in, Path target) throws IOException {
        Path temp = Files.createTempFile(target.toAbsolutePath().getParent(), "." + target.getFileName(), ".tmp");
        try {
            Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
    }
}
