package dev.qwen2j.model;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regression test for which layers slide: transformers windows layer i when use_sliding_window is true and
 * {@code i >= max_window_layers}. Same weights, only config.json changes.
 */
class SlidingWindowTest {

    /**
     * "The same" up to F32 rounding: the Vector API leaves the order of a lane reduction open, and interpreted,
     * C1 and C2 code may sum lanes differently while the JIT warms up (1e-8-sized differences).
     */
    static final float SAME = 1e-5f;
    static final float CHANGED = 1e-3f;

    @Test
    void onlyLayersFromMaxWindowLayersOnSlideAndOnlyBeyondTheWindow(@TempDir Path dir) throws IOException {
        Path base = RandomQwen2Checkpoint.builder().layers(2).seed(3).maxPositionEmbeddings(512).write(dir.resolve("base"));
        int[] prompt = new int[24];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 100 + 37 * i;
        }
        float[] full = logits(base, prompt);

        // max_window_layers = 2 = layer count: no layer slides.
        assertTrue(maxDifference(full, logits(withWindow(base, dir.resolve("none"), 4, 2), prompt)) < SAME);
        // A window longer than the prompt changes nothing.
        assertTrue(maxDifference(full, logits(withWindow(base, dir.resolve("wide"), 64, 0), prompt)) < SAME);
        // Layer 1 slides with a window of 4 over 24 tokens: the output changes.
        float[] windowed = logits(withWindow(base, dir.resolve("slides"), 4, 1), prompt);
        assertTrue(maxDifference(full, windowed) > CHANGED);
        // Both layers sliding differs again.
        assertTrue(maxDifference(windowed, logits(withWindow(base, dir.resolve("both"), 4, 0), prompt)) > CHANGED);
    }

    private static float maxDifference(float[] a, float[] b) {
        float worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }

    private static Path withWindow(Path base, Path folder, int window, int maxWindowLayers) throws IOException {
        Files.createDirectories(folder);
        try (var files = Files.list(base)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.createSymbolicLink(folder.resolve(f.getFileName()), f);
            }
        }
        Path config = folder.resolve("config.json");
        String json = Files.readString(base.resolve("config.json"))
                .replaceFirst("\"use_sliding_window\"\\s*:\\s*false", "\"use_sliding_window\": true")
                .replaceFirst("\"sliding_window\"\\s*:\\s*\\d+", "\"sliding_window\": " + window)
                .replaceFirst("\"max_window_layers\"\\s*:\\s*\\d+", "\"max_window_layers\": " + maxWindowLayers);
        if (!json.contains("\"use_sliding_window\": true") || !json.contains("\"sliding_window\": " + window)) {
            throw new IllegalStateException("config.json of the fixture changed shape: " + json);
        }
        Files.delete(config);
        Files.writeString(config, json);
        return folder;
    }

    private static float[] logits(Path folder, int[] prompt) throws IOException {
        try (Model model = Model.load(folder, ModelOptions.builder().threads(2).contextLength(64).build())) {
            Session session = model.acquireSession();
            try {
                return session.prefill(prompt, prompt.length).clone();
            } finally {
                model.releaseSession(session);
            }
        }
    }
}
