package dev.qwen2j.spark;

import dev.qwen2j.model.Model;
import dev.qwen2j.model.ModelOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.SparkEnv;

/**
 * The models of this JVM (an executor, or the driver in local mode): each folder loaded once, on first use, and
 * shared by every task thread; Model is thread-safe. Closed when the JVM exits.
 */
final class ExecutorModels {

    private static final Map<String, Model> LOADED = new HashMap<>();

    private ExecutorModels() {
    }

    static synchronized Model get(String folder, int threads) {
        String key = folder + "#" + threads;
        Model model = LOADED.get(key);
        if (model == null) {
            model = load(folder, threads);
            LOADED.put(key, model);
            Model loaded = model;
            Runtime.getRuntime().addShutdownHook(new Thread(loaded::close, "qwen2j-close-model"));
        }
        return model;
    }

    private static Model load(String folder, int threads) {
        Path path = Path.of(folder);
        if (!Files.isDirectory(path)) {
            throw new IllegalStateException("executor " + executor() + ": model folder " + path.toAbsolutePath()
                    + (Files.exists(path) ? " is not a folder" : " does not exist or cannot be read here")
                    + "; --model must be a path every executor can read (a shared file system or the same local copy)");
        }
        try {
            return Model.load(path, ModelOptions.builder().threads(threads).build());
        } catch (IOException e) {
            throw new UncheckedIOException("executor " + executor() + ": cannot load model " + path.toAbsolutePath()
                    + ": " + e.getMessage(), e);
        }
    }

    /** "id on host" of this executor, for error messages. */
    static String executor() {
        SparkEnv env = SparkEnv.get();
        String id = env == null ? "?" : env.executorId();
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown host";
        }
        return id + " on " + host;
    }
}
