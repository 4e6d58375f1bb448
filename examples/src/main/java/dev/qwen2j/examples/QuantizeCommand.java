package dev.qwen2j.examples;

import dev.qwen2j.quant.Int8FolderWriter;
import dev.qwen2j.quant.Quantization;
import dev.qwen2j.tensor.CpuBackend;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code qwen2j quantize}: writes an int8 copy of a float model folder in the compressed-tensors layout. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Quantize a BF16/F16/F32 model folder to int8 in the compressed-tensors layout that vLLM and",
                "transformers load (I8 weights, per-group or per-channel scales, quantization_config in config.json).",
                "The new folder appears complete or not at all. Every command loads it as it is."})
final class QuantizeCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|demo", description = "The float model folder.")
    String model;

    @Option(names = "--out", required = true, paramLabel = "DIR2", description = "The new folder (must not exist).")
    Path out;

    @Option(names = "--type", defaultValue = "int8", paramLabel = "TYPE", description = "Weight type: int8 (default).")
    String type;

    @Option(names = "--group-size", defaultValue = "32", paramLabel = "N|channel",
            description = "Inputs per scale (default ${DEFAULT-VALUE}, like Q8_0), or 'channel' for one scale per row.")
    String groupSize;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "Threads (default: physical cores).")
    int threads;

    @Mixin
    CommandErrors.Verbosity verbosity;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!"int8".equals(type)) {
            throw new IllegalArgumentException("--type " + type + ": only int8 is supported");
        }
        if (threads < 0) {
            throw new IllegalArgumentException("--threads must be >= 0 (0 = physical cores), got " + threads);
        }
        Quantization quantization = Quantization.int8(parseGroupSize(groupSize));
        PrintWriter out = spec.commandLine().getOut();
        Path source = ModelPaths.resolve(model);
        long start = System.nanoTime();
        Int8FolderWriter.Result result;
        try (QuantizeProgressBar bar = new QuantizeProgressBar("quantizing")) {
            result = Int8FolderWriter.write(source, this.out, quantization,
                    threads > 0 ? threads : CpuBackend.physicalCores(), bar);
        }
        out.printf(Locale.ROOT, "quantized %d matrices to %s in %.1f s: %s -> %s of weights in %s%n",
                result.quantizedMatrices(), quantization.describe(), (System.nanoTime() - start) / 1e9,
                mebibytes(result.sourceBytes()), mebibytes(result.writtenBytes()), this.out);
        out.flush();
        return 0;
    }

    /** {@code channel} or a positive whole number. */
    static int parseGroupSize(String value) {
        if ("channel".equals(value)) {
            return Quantization.CHANNEL;
        }
        try {
            int size = Integer.parseInt(value);
            if (size > 0) {
                return size;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("--group-size " + value + ": expected a positive number or 'channel'");
    }

    private static String mebibytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }
}
