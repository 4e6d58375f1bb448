package dev.qwen2j.jmh;

import dev.qwen2j.tensor.CpuBackend;
import dev.qwen2j.tensor.MemoryBandwidth;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.util.Map;
import java.util.TreeMap;

/**
 * Runs {@link Int8KernelBenchmark} with the read bandwidth and the bf16 kernels of {@link KernelBenchmark} in one JMH
 * run, and prints every int8 kernel (per activation choice and group size) as GB/s of weights and scales streamed, as
 * a share of the measured bandwidth, and as a speed-up over bf16 on the same shape. {@code ./build bench-report Int8}
 * (extra arguments go to JMH, e.g. {@code -wi 2 -i 3} or {@code -p groupSize=32}).
 */
public final class Int8Report {

    private static final String[][] SHAPES = {
            // int8 benchmark, bf16 benchmark, rows
            {"matvecInt8Mlp", "matvecBf16Mlp", Integer.toString(KernelBenchmark.INTERMEDIATE)},
            {"matvecInt8Vocab", "matvecBf16Vocab", Integer.toString(KernelBenchmark.VOCAB)},
            {"matvecInt8QkvFused", "matvecBf16QkvFused", Integer.toString(KernelBenchmark.HIDDEN + 2 * KernelBenchmark.KV_WIDTH)},
            {"matmulInt8Batch8", "matmulBf16Batch8", Integer.toString(KernelBenchmark.INTERMEDIATE)},
            {"matmulInt8Prefill128", "matmulBf16Prefill128", Integer.toString(KernelBenchmark.INTERMEDIATE)},
    };

    private Int8Report() {
    }

    public static void main(String[] args) throws RunnerException, CommandLineOptionException {
        CommandLineOptions commandLine = new CommandLineOptions(args);
        OptionsBuilder builder = new OptionsBuilder();
        builder.parent(commandLine);
        if (commandLine.getIncludes().isEmpty()) {
            builder.include(Int8KernelBenchmark.class.getName() + "\\.");
            builder.include(KernelBenchmark.class.getName() + "\\.(readBandwidth|matvecBf16.*|matmulBf16Batch8|matmulBf16Prefill128)$");
        }
        Map<String, Double> micros = new TreeMap<>();
        for (RunResult result : new Runner(builder.build()).run()) {
            String method = result.getParams().getBenchmark();
            method = method.substring(method.lastIndexOf('.') + 1);
            String activations = result.getParams().getParam("activations");
            String key = activations == null ? method
                    : method + " " + activations + " g" + result.getParams().getParam("groupSize");
            micros.put(key, result.getPrimaryResult().getScore());
        }
        print(micros);
    }

    private static void print(Map<String, Double> micros) {
        Double stream = micros.get("readBandwidth");
        double bandwidth = stream == null ? Double.NaN : MemoryBandwidth.BYTES / (stream * 1e3);
        int h = KernelBenchmark.HIDDEN;
        System.out.println();
        System.out.printf("int8 kernels (%d threads; read bandwidth %.1f GB/s measured in this run; the machine may be shared)%n",
                CpuBackend.physicalCores(), bandwidth);
        System.out.printf("%-36s %10s %10s %11s %10s%n", "benchmark activations group", "µs/op", "GB/s", "of bandwidth", "vs bf16");
        for (String[] shape : SHAPES) {
            long rows = Long.parseLong(shape[2]);
            Double bf16 = micros.get(shape[1]);
            for (Map.Entry<String, Double> e : micros.entrySet()) {
                if (!e.getKey().startsWith(shape[0] + " ")) {
                    continue;
                }
                int group = Integer.parseInt(e.getKey().substring(e.getKey().lastIndexOf(" g") + 2));
                long scales = rows * (group == 0 ? 1 : h / group);
                long bytes = rows * h + 4 * scales;
                double gbps = bytes / (e.getValue() * 1e3);
                System.out.printf("%-36s %10.1f %10.1f %10.0f%% %9.2fx%n", e.getKey(), e.getValue(), gbps,
                        100 * gbps / bandwidth, bf16 == null ? Double.NaN : bf16 / e.getValue());
            }
            if (bf16 != null) {
                System.out.printf("%-36s %10.1f %10.1f %10.0f%%%n", shape[1] + " (bf16)", bf16,
                        2.0 * rows * h / (bf16 * 1e3), 100 * 2.0 * rows * h / (bf16 * 1e3) / bandwidth);
            }
        }
        System.out.println("Targets (issue 9): int8 decode ≥ 1.6× bf16; prefill ≥ bf16. Keep the faster activations per shape.");
    }
}
