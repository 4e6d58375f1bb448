package dev.qwen2j.examples;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.core.safetensors.DType;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code qwen2j synth}: writes a random-weight model folder of a real model's shape, for benchmarks. */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = {"Write a random-weight Qwen2 model folder (Hugging Face layout, bundled tokenizer).",
                "Its text is noise, but its speed is the real model's: use it with 'bench'."})
final class SynthCommand implements Callable<Integer> {

    /** The shapes {@code --shape} knows. */
    enum Shape {
        QWEN25_05B("qwen2.5-0.5b"), QWEN25_7B("qwen2.5-7b"), TINY("tiny");

        final String id;

        Shape(String id) {
            this.id = id;
        }

        RandomQwen2Checkpoint.Builder builder() {
            return switch (this) {
                case QWEN25_05B -> RandomQwen2Checkpoint.qwen25_05b();
                case QWEN25_7B -> RandomQwen2Checkpoint.qwen25_7b();
                case TINY -> RandomQwen2Checkpoint.builder();
            };
        }

        static Shape parse(String id) {
            for (Shape s : values()) {
                if (s.id.equalsIgnoreCase(id)) {
                    return s;
                }
            }
            throw new picocli.CommandLine.TypeConversionException("unknown shape '" + id + "' (known: qwen2.5-0.5b, qwen2.5-7b, tiny)");
        }
    }

    @Option(names = "--shape", required = true, converter = ShapeConverter.class,
            description = "qwen2.5-0.5b (896 hidden, 24 layers, ~1 GB in BF16), qwen2.5-7b (3584 hidden, 28 layers, "
                    + "~15 GB) or tiny (64 hidden, 2 layers).")
    Shape shape;

    @Option(names = "--out", required = true, description = "Folder to create (must not exist, or be empty).")
    Path out;

    @Option(names = "--dtype", defaultValue = "BF16", description = "Weight type: BF16, F16 or F32 (default ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--seed", defaultValue = "42", description = "Random seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    CommandErrors.Verbosity verbosity;

    @Spec
    CommandSpec spec;

    static final class ShapeConverter implements picocli.CommandLine.ITypeConverter<Shape> {
        @Override
        public Shape convert(String value) {
            return Shape.parse(value);
        }
    }

    @Override
    public Integer call() throws IOException {
        DType type = switch (dtype.toUpperCase(Locale.ROOT)) {
            case "BF16" -> DType.BF16;
            case "F16" -> DType.F16;
            case "F32" -> DType.F32;
            default -> throw new IllegalArgumentException("--dtype must be BF16, F16 or F32, got " + dtype);
        };
        if (Files.exists(out) && !Folders.isEmptyFolder(out)) {
            throw new FileAlreadyExistsException(out.toString(), null, "exists and is not an empty folder");
        }
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        long start = System.nanoTime();
        // Written beside the target, renamed when complete: a failure (a full disk, a kill) leaves no half folder,
        // and what a killed run left is removed by the next synth into the same parent.
        try (OwnedTempFolder temp = OwnedTempFolder.create(parent, "." + out.getFileName() + ".writing-")) {
            shape.builder().dtype(type).seed(seed).write(temp.path());
            Files.deleteIfExists(out); // an empty folder
            Files.move(temp.path(), out, StandardCopyOption.ATOMIC_MOVE);
        }
        spec.commandLine().getErr().printf(Locale.ROOT, "synth: wrote %s (%s, %s) in %.1f s%n", out, shape.id, type,
                (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
