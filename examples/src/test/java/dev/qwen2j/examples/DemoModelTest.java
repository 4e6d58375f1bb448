package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    @Test
    void concurrentFirstRunsAllSucceedAndLeaveOneFolder() throws Exception {
        int runs = 4;
        var start = new java.util.concurrent.CyclicBarrier(runs);
        var pool = java.util.concurrent.Executors.newFixedThreadPool(runs);
        try {
            var results = new java.util.ArrayList<java.util.concurrent.Future<Path>>();
            for (int i = 0; i < runs; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return DemoModel.unpackInto(cache);
                }));
            }
            for (var result : results) {
                assertEquals(cache.resolve("demo-" + DemoModel.contentHash()), result.get(60, java.util.concurrent.TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        try (var entries = Files.list(cache)) {
            assertEquals(java.util.List.of(cache.resolve("demo-" + DemoModel.contentHash())), entries.toList(),
                    "one complete folder, no temporary folder or lock file");
        }
        assertTrue(Files.isRegularFile(cache.resolve("demo-" + DemoModel.contentHash()).resolve("model.safetensors")));
    }

    @Test
    void foldersOfDeadRunsAreRemovedAndThoseOfLiveRunsKept() throws IOException {
        String prefix = DemoModel.UNPACKING_PREFIX;
        // A run that died (killed mid-unpack): its lock file remains, but no process holds the lock.
        Path dead = Files.createDirectories(cache.resolve(prefix + "111"));
        Files.writeString(dead.resolve("model.safetensors"), "half written");
        Files.createFile(cache.resolve(prefix + "111.lock"));
        // A folder from before the locks, hours old; and a fresh one, which may still be at work.
        Path legacy = Files.createDirectories(cache.resolve(prefix + "222"));
        Files.setLastModifiedTime(legacy, FileTime.from(java.time.Instant.now().minus(java.time.Duration.ofHours(2))));
        Path fresh = Files.createDirectories(cache.resolve(prefix + "333"));
        // Something else of the user's that merely looks similar.
        Path other = Files.createDirectories(cache.resolve("demo-unpacking-mine"));
        try (OwnedTempFolder live = OwnedTempFolder.create(cache, prefix)) { // a run at work right now
            Path folder = DemoModel.unpackInto(cache);
            assertTrue(Files.isDirectory(folder));
            assertFalse(Files.exists(dead), "a dead run's folder is removed");
            assertFalse(Files.exists(cache.resolve(prefix + "111.lock")), "with its lock file");
            assertFalse(Files.exists(legacy), "an hours-old folder without a lock is removed");
            assertTrue(Files.isDirectory(fresh), "a fresh folder without a lock may belong to a live run");
            assertTrue(Files.isDirectory(live.path()), "a live run's folder is kept");
            assertTrue(Files.isDirectory(other), "names without our prefix are never touched");
        }
    }

    @Test
    void cacheFolderHonoursQwen2jCacheThenXdgCacheHome() {
        assertEquals(Path.of("/p"), DemoModel.cacheRoot("/p", "/q", "/x", "/home/u"));
        assertEquals(Path.of("/q"), DemoModel.cacheRoot(null, "/q", "/x", "/home/u"));
        assertEquals(Path.of("/x/qwen2j"), DemoModel.cacheRoot(null, " ", "/x", "/home/u"));
        assertEquals(Path.of("/home/u/.cache/qwen2j"), DemoModel.cacheRoot("", null, "", "/home/u"));
    }
}
