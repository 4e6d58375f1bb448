package dev.qwen2j.examples;

import dev.qwen2j.core.config.GenerationDefaults;
import dev.qwen2j.core.config.Qwen2Config;
import dev.qwen2j.core.safetensors.Checkpoint;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.core.safetensors.MappedTensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/** {@code qwen2j inspect --model DIR|FILE|demo}: what a checkpoint holds, without reading its weights. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a model folder (or one .safetensors file): config summary, parameter count, "
                + "bytes by dtype and every tensor's name, dtype and shape.")
public final class InspectCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|FILE|demo",
            description = "A Hugging Face model folder (config.json + model.safetensors or sharded with an index), "
                    + "a single .safetensors file, or 'demo' for the built-in demo model.")
    String modelOption;

    @Mixin
    CommandErrors.Verbosity verbosity;

    @Spec
    CommandSpec spec;

    /** Errors (bad folder, bad file) go to {@link CommandErrors}: one line on stderr, exit code 1. */
    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        ModelPaths.requireNamed(modelOption);
        try {
            inspect(out, ModelPaths.DEMO.equals(modelOption) ? ModelPaths.resolve(modelOption) : Path.of(modelOption));
        } finally {
            out.flush();
        }
        return 0;
    }

    private static void inspect(PrintWriter out, Path model) throws IOException {
        boolean folder = Files.isDirectory(model);
        Path configFolder = folder ? model : model.toAbsolutePath().getParent();
        // a folder must be a model; a lone .safetensors file may sit anywhere
        Qwen2Config config = folder || Files.exists(configFolder.resolve(Qwen2Config.FILE))
                ? Qwen2Config.load(configFolder) : null;
        GenerationDefaults defaults = config != null ? GenerationDefaults.load(configFolder) : null;

        try (Checkpoint checkpoint = Checkpoint.open(model)) {
            List<MappedTensor> tensors = new ArrayList<>(checkpoint.tensors());
            tensors.sort(Comparator.comparing(MappedTensor::name, InspectCommand::compareNatural));
            TreeSet<String> files = new TreeSet<>();
            long parameters = 0;
            Map<DType, Long> bytesByDtype = new EnumMap<>(DType.class);
            for (MappedTensor t : tensors) {
                files.add(t.file().getFileName().toString());
                parameters += t.elementCount();
                bytesByDtype.merge(t.dtype(), t.byteSize(), Long::sum);
            }

            out.printf("model       %s%n", checkpoint.path());
            out.printf("files       %d (%s)%n", files.size(), files.size() <= 3 ? String.join(", ", files)
                    : files.first() + " .. " + files.last());
            if (config != null) {
                printConfig(out, config);
                printDefaults(out, defaults);
            } else {
                out.printf("config      none (no %s next to the file)%n", Qwen2Config.FILE);
            }
            out.printf("parameters  %,d (%s)%n", parameters, humanCount(parameters));
            for (Map.Entry<DType, Long> entry : bytesByDtype.entrySet()) {
                out.printf("bytes       %-7s %,d (%s)%n", entry.getKey(), entry.getValue(), humanBytes(entry.getValue()));
            }
            out.printf("tensors     %d%n", tensors.size());
            int width = tensors.stream().mapToInt(t -> t.name().length()).max().orElse(0);
            for (MappedTensor t : tensors) {
                out.printf("  %-" + width + "s  %-7s %s%n", t.name(), t.dtype(), Arrays.toString(t.shape()));
            }
        }
    }

    private static void printConfig(PrintWriter out, Qwen2Config c) {
        out.printf("config      qwen2: hidden %d, intermediate %d, layers %d, heads %d (KV %d, head_dim %d), vocab %d%n",
                c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(), c.numAttentionHeads(),
                c.numKeyValueHeads(), c.headDim(), c.vocabSize());
        out.printf("            rope_theta %s, rope_scaling %s, max_position_embeddings %d, rms_norm_eps %s%n",
                c.ropeTheta(), c.ropeScaling() == null ? "none" : c.ropeScaling().type() + " x" + c.ropeScaling().factor()
                        + " from " + c.ropeScaling().originalMaxPositionEmbeddings(),
                c.maxPositionEmbeddings(), c.rmsNormEps());
        out.printf("            tied embeddings %s, sliding window %s, torch_dtype %s, bos %s, eos %s%n",
                c.tieWordEmbeddings() ? "yes" : "no",
                c.useSlidingWindow() ? c.slidingWindow() + " (" + c.maxWindowLayers() + " layers)" : "off",
                orUnset(c.torchDtype()), orUnset(c.bosTokenId()), Arrays.toString(c.eosTokenIds()));
    }

    private static void printDefaults(PrintWriter out, GenerationDefaults d) {
        out.printf("generation  temperature %s, top_p %s, top_k %s, repetition_penalty %s, do_sample %s, eos %s%n",
                orUnset(d.temperature()), orUnset(d.topP()), orUnset(d.topK()), orUnset(d.repetitionPenalty()),
                orUnset(d.doSample()), Arrays.toString(d.eosTokenIds()));
    }

    private static String orUnset(Object value) {
        return value == null ? "unset" : value.toString();
    }

    private static String humanCount(long n) {
        if (n >= 1_000_000_000L) {
            return String.format("%.2fB", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format("%.1fM", n / 1e6);
        }
        return String.format("%.1fK", n / 1e3);
    }

    private static String humanBytes(long n) {
        if (n >= 1L << 30) {
            return String.format("%.2f GiB", n / (double) (1L << 30));
        }
        return String.format("%.1f MiB", n / (double) (1L << 20));
    }

    /** Orders {@code layers.2} before {@code layers.10}: digit runs compare as numbers. */
    static int compareNatural(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i);
            char cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int endA = i;
                while (endA < a.length() && Character.isDigit(a.charAt(endA))) {
                    endA++;
                }
                int endB = j;
                while (endB < b.length() && Character.isDigit(b.charAt(endB))) {
                    endB++;
                }
                String numA = a.substring(i, endA).replaceFirst("^0+(?=.)", "");
                String numB = b.substring(j, endB).replaceFirst("^0+(?=.)", "");
                int byValue = numA.length() != numB.length() ? Integer.compare(numA.length(), numB.length())
                        : numA.compareTo(numB);
                if (byValue != 0) {
                    return byValue;
                }
                i = endA;
                j = endB;
            } else {
                if (ca != cb) {
                    return Character.compare(ca, cb);
                }
                i++;
                j++;
            }
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
