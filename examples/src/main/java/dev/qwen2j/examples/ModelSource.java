package dev.qwen2j.examples;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.model.Device;
import dev.qwen2j.model.Model;
import dev.qwen2j.model.ModelOptions;
import dev.qwen2j.quant.Quantization;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The {@code --model}, {@code --threads}, {@code --kv-cache}, {@code --quantize} (with {@code --group-size}),
 * {@code --device} and {@code --gpu-layers} options of the commands that run a model, and the loading.
 */
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

    @Option(names = "--quantize", paramLabel = "TYPE",
            description = "Quantize the float weights while loading: int8 (groups of 32, lm_head included).")
    String quantize;

    @Option(names = "--group-size", paramLabel = "N|channel",
            description = "With --quantize: inputs per scale (default 32, like Q8_0), or 'channel' for one scale per row.")
    String groupSize;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "cpu|cuda|cuda:N|auto",
            description = "Where the layers run: cpu (the default), a CUDA device, or auto (CUDA when one opens, "
                    + "else the CPU).")
    String device;

    @Option(names = "--gpu-layers", defaultValue = "-1", paramLabel = "N",
            description = "With a CUDA device: run its first N layers there and the rest on the CPU (default: all).")
    int gpuLayers;

    /** What loading took, in milliseconds, for statistics. */
    long loadMillis;

    /** The resolved model folder, once loaded. */
    Path folder;

    /** Resolves {@code --model} and loads it with {@code contextLength} (0 = the model's default). */
    Model load(int contextLength, PrintWriter err) throws IOException {
        checkThreads();
        Quantization quantization = quantization();
        long start = System.nanoTime();
        // Quantizing shows its own progress bar; otherwise only the time is known.
        try (var indicator = quantization == null ? LoadingIndicator.start("loading " + model, err) : null;
             var bar = new QuantizeProgressBar("int8")) {
            folder = ModelPaths.resolve(model);
            ModelOptions options = deviceOptions(ModelOptions.builder().threads(threads).contextLength(contextLength)
                    .kvCacheType(kvCacheType()).quantize(quantization)).build();
            Model loaded = Model.load(folder, options, bar);
            loadMillis = (System.nanoTime() - start) / 1_000_000;
            return loaded;
        }
    }

    /** {@code --device} and {@code --gpu-layers} on {@code options}, each error naming its flag; ModelOptions checks them. */
    private ModelOptions.Builder deviceOptions(ModelOptions.Builder options) {
        Device parsed;
        try {
            parsed = Device.parse(device);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--device: " + e.getMessage(), e);
        }
        try {
            ModelOptions.builder().device(parsed).gpuLayers(gpuLayers).build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--gpu-layers: " + e.getMessage(), e);
        }
        return options.device(parsed).gpuLayers(gpuLayers);
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

    /** {@code --quantize} with {@code --group-size}: null when absent. */
    private Quantization quantization() {
        if (quantize == null) {
            if (groupSize != null) {
                throw new IllegalArgumentException("--group-size " + groupSize + ": only with --quantize int8");
            }
            return null;
        }
        if (!"int8".equals(quantize)) {
            throw new IllegalArgumentException("--quantize " + quantize + ": only int8 is supported");
        }
        return groupSize == null ? Quantization.INT8 : Quantization.int8(QuantizeCommand.parseGroupSize(groupSize));
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
