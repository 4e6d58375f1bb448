package dev.qwen2j.examples;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.model.Model;
import dev.qwen2j.model.ModelOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/** The {@code --model}, {@code --threads} and {@code --kv-cache} options of the commands that run a model, and the loading. */
final class ModelSource {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|demo",
            description = "A Hugging Face Qwen2-family model folder, or 'demo' for the built-in demo model "
                    + "(a tiny Qwen2 that adds numbers step by step).")
    String model;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "Worker threads (default: physical cores).")
    int threads;

    @Option(names = "--kv-cache", defaultValue = "f32", paramLabel = "f32|bf16|int8",
            description = "KV cache precision: f32 (exact, the default), bf16 (half the memory) or int8 (a quarter, "
                    + "one scale per head and position).")
    String kvCache;

    /** What loading took, in milliseconds, for statistics. */
    long loadMillis;

    /** The resolved model folder, once loaded. */
    Path folder;

    /** Resolves {@code --model} and loads it with {@code contextLength} (0 = the model's default). */
    Model load(int contextLength, PrintWriter err) throws IOException {
        checkThreads();
        long start = System.nanoTime();
        try (var indicator = LoadingIndicator.start("loading " + model, err)) {
            folder = ModelPaths.resolve(model);
            ModelOptions options = ModelOptions.builder().threads(threads).contextLength(contextLength)
                    .kvCacheType(kvCacheType()).build();
            Model loaded = Model.load(folder, options);
            loadMillis = (System.nanoTime() - start) / 1_000_000;
            return loaded;
        }
    }

    /** {@code --kv-cache} as a cache element type. */
    DType kvCacheType() {
        return switch (kvCache.toLowerCase(Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            case "int8" -> DType.I8;
            default -> throw new IllegalArgumentException("--kv-cache must be f32, bf16 or int8, got '" + kvCache + "'");
        };
    }

    /** Fails naming {@code --threads} when it is out of range, before any thread is started. */
    void checkThreads() {
        try {
            ModelOptions.builder().threads(threads).build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--threads: " + e.getMessage(), e);
        }
    }

    /**
     * Shows "loading … 1.3 s" on stderr (a terminal only) when loading takes more than a second; the weights
     * are mapped, not read, so there is no byte count to draw a bar from, only the time.
     */
    static final class LoadingIndicator implements AutoCloseable {
        private final Thread thread;
        private final PrintWriter err;
        private volatile boolean shown;

        private LoadingIndicator(String what, PrintWriter err) {
            this.err = err;
            long start = System.nanoTime();
            this.thread = Thread.ofPlatform().daemon().name("qwen2j-loading").unstarted(() -> {
                try {
                    Thread.sleep(1000);
                    while (true) {
                        shown = true;
                        synchronized (err) {
                            err.printf(Locale.ROOT, "\r%s … %.1f s ", what, (System.nanoTime() - start) / 1e9);
                            err.flush();
                        }
                        Thread.sleep(100);
                    }
                } catch (InterruptedException e) {
                    // loading finished
                }
            });
        }

        static LoadingIndicator start(String what, PrintWriter err) {
            LoadingIndicator indicator = new LoadingIndicator(what, err);
            if (System.console() != null) {
                indicator.thread.start();
            }
            return indicator;
        }

        @Override
        public void close() {
            thread.interrupt();
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (shown) {
                synchronized (err) {
                    err.print("\r\033[K");
                    err.flush();
                }
            }
        }
    }
}
