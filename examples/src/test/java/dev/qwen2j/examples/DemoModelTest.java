package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.config.Qwen2Config;
import dev.qwen2j.core.safetensors.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoModelTest {

    @TempDir
    Path cache;

    @Test
    void unpacksOnceIntoAFolderNamedByContent() throws IOException {
        Path folder = DemoModel.unpackInto(cache);
        assertEquals(cache.resolve("demo-" + DemoModel.contentHash()), folder);
        for (String name : new String[] {"model.safetensors", "config.json", "generation_config.json", "README.md",
                "ACCURACY", "tokenizer.json", "tokenizer_config.json"}) {
            assertTrue(Files.isRegularFile(folder.resolve(name)), name);
        }
        assertEquals(128, Qwen2Config.load(folder).hiddenSize());
        try (Checkpoint checkpoint = Checkpoint.open(folder)) {
            assertEquals(151936 * 128L, checkpoint.tensor("model.embed_tokens.weight").elementCount());
        }

        FileTime written = Files.getLastModifiedTime(folder.resolve("model.safetensors"));
        assertEquals(folder, DemoModel.unpackInto(cache));
        assertEquals(written, Files.getLastModifiedTime(folder.resolve("model.safetensors")), "unpacked again");
        try (var entries = Files.list(cache)) {
            assertEquals(1, entries.count(), "no temporary folder may remain");
        }
    }

    @Test
    void modelPathsNamesAMissingFolder() {
        Path missing = cache.resolve("nope");
        var error = assertThrows(IOException.class, () -> ModelPaths.resolve(missing.toString()));
        assertTrue(CommandErrors.describe(error).contains(missing.toString()), CommandErrors.describe(error));
    }

    @Test
    void modelPathsRejectsAFile() throws IOException {
        Path file = Files.writeString(cache.resolve("config.json"), "{}");
        var error = assertThrows(IOException.class, () -> ModelPaths.resolve(file.toString()));
        assertTrue(error.getMessage().contains("not a folder"), error.getMessage());
    }
}
