package dev.qwen2j.cuda;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where {@code libcublas} is: {@code -Dqwen2j.cublas=PATH} first, then each {@code LD_LIBRARY_PATH} folder, the
 * CUDA toolkit ({@code CUDA_HOME}, {@code /usr/local/cuda}), and the {@code nvidia-cublas} Python wheel's
 * {@code nvidia/cublas/lib} in the usual site-packages folders. Without it the GPU still runs, prefill on the
 * decode kernels, with one warning.
 */
public final class CublasLocator {

    public static final String PROPERTY = "qwen2j.cublas";
    static final List<String> NAMES = List.of("libcublas.so.13", "libcublas.so.12", "libcublas.so");

    private CublasLocator() {
    }

    /** The library to load, if any, for this process's environment and system properties. */
    public static Optional<Path> locate() {
        return locate(System.getenv(), System.getProperty(PROPERTY), Path.of(System.getProperty("user.home", "/")));
    }

    static Optional<Path> locate(Map<String, String> env, String property, Path home) {
        if (property != null && !property.isBlank()) {
            Path explicit = Path.of(property);
            if (!Files.isRegularFile(explicit)) {
                throw new IllegalArgumentException("-D" + PROPERTY + "=" + property + ": no such file");
            }
            return Optional.of(explicit);
        }
        for (Path folder : folders(env, home)) {
            for (String name : NAMES) {
                Path candidate = folder.resolve(name);
                if (Files.isRegularFile(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }

    static List<Path> folders(Map<String, String> env, Path home) {
        List<Path> folders = new ArrayList<>();
        String ld = env.get("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String part : ld.split(":")) {
                if (!part.isBlank()) {
                    folders.add(Path.of(part));
                }
            }
        }
        for (String cuda : new String[]{env.get("CUDA_HOME"), "/usr/local/cuda"}) {
            if (cuda != null) {
                folders.add(Path.of(cuda, "lib64"));
                folders.add(Path.of(cuda, "targets", "x86_64-linux", "lib"));
            }
        }
        for (Path lib : new Path[]{home.resolve(".local/lib"), Path.of("/usr/local/lib"), Path.of("/usr/lib")}) {
            folders.addAll(wheelFolders(lib));
        }
        return folders;
    }

    /** {@code LIB/python3.*}/{site,dist}-packages/nvidia/cublas/lib. */
    private static List<Path> wheelFolders(Path lib) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(lib)) {
            return out;
        }
        try (DirectoryStream<Path> pythons = Files.newDirectoryStream(lib, "python3*")) {
            for (Path python : pythons) {
                for (String packages : new String[]{"site-packages", "dist-packages"}) {
                    out.add(python.resolve(packages).resolve("nvidia/cublas/lib"));
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }
}
