package dev.qwen2j.examples;

import dev.qwen2j.core.checkpoint.BundledTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * The built-in demo model (a tiny Qwen2 that adds numbers step by step, see its README), shipped gzipped in
 * this jar and unpacked once into a cache folder (see {@link #cacheRoot()}) as {@code demo-<content hash>}. The
 * folder appears whole or not at all (written beside it, then renamed): of concurrent first runs, one wins the
 * rename and the others use its folder; what an interrupted run left behind is removed by the next one.
 */
public final class DemoModel {

    private static final String RESOURCE_DIR = "/dev/qwen2j/examples/demo/";
    private static final String WEIGHTS_GZ = "model.safetensors.gz";
    /** Name prefix of the folders an unpacking writes before renaming them into place. */
    static final String UNPACKING_PREFIX = ".demo-unpacking-";
    private static final List<String> PLAIN_FILES = List.of("config.json", "generation_config.json", "README.md", "ACCURACY");

    private DemoModel() {
    }

    /** The unpacked demo model folder in the user's cache, unpacking it on first use. */
    public static Path folder() throws IOException {
        return unpackInto(cacheRoot());
    }

    /**
     * The first of: the system property {@code qwen2j.cache} (tests use it to stay out of the user's cache), the
     * environment variable {@code QWEN2J_CACHE}, {@code $XDG_CACHE_HOME/qwen2j}, {@code ~/.cache/qwen2j}.
     */
    static Path cacheRoot() {
        return cacheRoot(System.getProperty("qwen2j.cache"), System.getenv("QWEN2J_CACHE"),
                System.getenv("XDG_CACHE_HOME"), System.getProperty("user.home"));
    }

    /** {@link #cacheRoot()} from its inputs, each null or blank when unset. */
    static Path cacheRoot(String property, String qwen2jCache, String xdgCacheHome, String userHome) {
        if (isSet(property)) {
            return Path.of(property);
        }
        if (isSet(qwen2jCache)) {
            return Path.of(qwen2jCache);
        }
        Path base = isSet(xdgCacheHome) ? Path.of(xdgCacheHome) : Path.of(userHome, ".cache");
        return base.resolve("qwen2j");
    }

    private static boolean isSet(String value) {
        return value != null && !value.isBlank();
    }

    /** Unpacks the demo model into {@code root/demo-<hash>} unless it is already there; returns that folder. */
    public static Path unpackInto(Path root) throws IOException {
        Path target = root.resolve("demo-" + contentHash());
        if (Files.isDirectory(target)) {
            return target;
        }
        Files.createDirectories(root);
        try (OwnedTempFolder owned = OwnedTempFolder.create(root, UNPACKING_PREFIX)) {
            Path temp = owned.path();
            try (InputStream gz = open(WEIGHTS_GZ); InputStream weights = new GZIPInputStream(gz, 1 << 16)) {
                Files.copy(weights, temp.resolve("model.safetensors"));
            }
            for (String name : PLAIN_FILES) {
                try (InputStream in = open(name)) {
                    Files.copy(in, temp.resolve(name));
                }
            }
            BundledTokenizer.copyTo(temp);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileSystemException e) {
                // Linux reports a lost race as ENOTEMPTY, a plain FileSystemException ("Directory not empty"):
                // whatever the type, a target that exists now was renamed there whole by another run.
                if (!Files.isDirectory(target)) {
                    throw e;
                }
            }
        }
        return target;
    }

    /**
     * First 12 hex digits of SHA-256 over the shipped files (demo and tokenizer resources), so a new demo model
     * or tokenizer in a new release unpacks into a new folder instead of reusing a stale one.
     */
    static String contentHash() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (String name : Stream.concat(Stream.of(WEIGHTS_GZ), PLAIN_FILES.stream()).toList()) {
                digest(sha, open(name), buffer);
            }
            for (String name : List.of("tokenizer.json.gz", "tokenizer_config.json")) {
                InputStream in = BundledTokenizer.class.getResourceAsStream("/dev/qwen2j/core/tokenizer/qwen/" + name);
                if (in == null) {
                    throw new UncheckedIOException(new IOException("resource /dev/qwen2j/core/tokenizer/qwen/" + name
                            + " is missing from the qwen2j-core jar"));
                }
                digest(sha, in, buffer);
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static void digest(MessageDigest sha, InputStream in, byte[] buffer) {
        try (DigestInputStream digesting = new DigestInputStream(in, sha)) {
            while (digesting.read(buffer) >= 0) {
                // reading feeds the digest
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static InputStream open(String name) {
        InputStream in = DemoModel.class.getResourceAsStream(RESOURCE_DIR + name);
        if (in == null) {
            throw new UncheckedIOException(new IOException("resource " + RESOURCE_DIR + name
                    + " is missing from the qwen2j-examples jar"));
        }
        return in;
    }
}
