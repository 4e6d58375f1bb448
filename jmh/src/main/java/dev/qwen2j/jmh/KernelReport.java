package dev.qwen2j.jmh;

import dev.qwen2j.tensor.CpuBackend;
import dev.qwen2j.tensor.MemoryBandwidth;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.util.HashMap;
import java.util.Map;

/**
 * Runs {@link KernelBenchmark} through JMH and prints each kernel's efficiency against the read bandwidth and
 * FMA peak measured in the same run. {@code ./build bench-report Kernel} (extra arguments go to JMH, e.g.
 * {@code -wi 2 -i 3}, or a regex narrowing the benchmarks: include {@code readBandwidth|fmaPeak} in it for
 the ratios).
 */
public final class KernelReport {

    private KernelReport() {
    }

    public static void main(String[] args) throws RunnerException, CommandLineOptionException {
        CommandLineOptions commandLine = new CommandLineOptions(args);
        OptionsBuilder builder = new OptionsBuilder();
        builder.parent(commandLine);
        if (commandLine.getIncludes().isEmpty()) {
            builder.include(KernelBenchmark.class.getName() + "\\.");
        }
        Options options = builder.build();
        Map<String, Double> micros = new HashMap<>();
        Map<String, Double> errors = new HashMap<>();
        for (RunResult result : new Runner(options).run()) {
            String method = result.getParams().getBenchmark();
            method = method.substring(method.lastIndexOf('.') + 1);
            micros.put(method, result.getPrimaryResult().getScore());
            errors.put(method, result.getPrimaryResult().getScoreError());
        }
        print(micros, errors);
    }

    private static void print(Map<String, Double> micros, Map<String, Double> errors) {
        int threads = CpuBackend.physicalCores();
        Double streamMicros = micros.get("readBandwidth");
        Double fmaMicros = micros.get("fmaPeak");
        double bandwidth = streamMicros == null ? Double.NaN : MemoryBandwidth.BYTES / (streamMicros * 1e3);
        double peak = Double.NaN;
        if (fmaMicros != null) {
            try (CpuBackend backend = CpuBackend.create(0)) {
                peak = dev.qwen2j.tensor.FmaPeak.flops(backend, KernelBenchmark.FMA_ITERATIONS) / (fmaMicros * 1e3);
            }
        }
        int h = KernelBenchmark.HIDDEN;
        System.out.println();
        System.out.printf("Kernel efficiency (%d threads; ceilings measured in this run; the machine may be shared)%n", threads);
        System.out.printf("%-22s %12s %12s %14s %10s%n", "benchmark", "µs/op", "± µs", "rate", "of ceiling");
        System.out.printf("%-22s %12.1f %12.1f %10.1f GB/s %10s%n", "readBandwidth", nan(streamMicros), nan(errors.get("readBandwidth")), bandwidth, "ceiling");
        System.out.printf("%-22s %12.1f %12.1f %8.1f GFLOP/s %10s%n", "fmaPeak", nan(fmaMicros), nan(errors.get("fmaPeak")), peak, "ceiling");
        bytesRow(micros, errors, "matvecBf16Mlp", 2L * KernelBenchmark.INTERMEDIATE * h, bandwidth, "≥ 80%");
        bytesRow(micros, errors, "matvecBf16Vocab", 2L * KernelBenchmark.VOCAB * h, bandwidth, "≥ 80%");
        bytesRow(micros, errors, "matvecBf16QkvFused",
                2L * (h + 2L * KernelBenchmark.KV_WIDTH) * h, bandwidth, "≥ 60%");
        Double prefill = micros.get("matmulBf16Prefill128");
        if (prefill != null) {
            double gflops = 2.0 * KernelBenchmark.PREFILL_TOKENS * KernelBenchmark.INTERMEDIATE * h / (prefill * 1e3);
            System.out.printf("%-22s %12.1f %12.1f %8.1f GFLOP/s %9.0f%%   (target ≥ 50%%)%n", "matmulBf16Prefill128",
                    prefill, nan(errors.get("matmulBf16Prefill128")), gflops, 100 * gflops / peak);
        }
        Double handOff = micros.get("emptyParallelFor");
        if (handOff != null) {
            System.out.printf("%-22s %12.2f %12.2f   (hand-off cost of an empty parallel-for)%n", "emptyParallelFor",
                    handOff, nan(errors.get("emptyParallelFor")));
        }
        Double busy = micros.get("parallelForBusyChunks");
        if (busy != null) {
            System.out.printf("%-22s %12.2f %12.2f   (one %.0f µs chunk per thread: %.2f µs over the ideal)%n",
                    "parallelForBusyChunks", busy, nan(errors.get("parallelForBusyChunks")),
                    KernelBenchmark.BUSY_CHUNK_NANOS / 1e3, busy - KernelBenchmark.BUSY_CHUNK_NANOS / 1e3);
        }
    }

    private static void bytesRow(Map<String, Double> micros, Map<String, Double> errors, String name, long bytes,
                                 double bandwidth, String target) {
        Double us = micros.get(name);
        if (us == null) {
            return;
        }
        double gbps = bytes / (us * 1e3);
        System.out.printf("%-22s %12.1f %12.1f %10.1f GB/s %9.0f%%   (target %s)%n", name, us, nan(errors.get(name)), gbps,
                100 * gbps / bandwidth, target);
    }

    private static double nan(Double value) {
        return value == null ? Double.NaN : value;
    }
}
