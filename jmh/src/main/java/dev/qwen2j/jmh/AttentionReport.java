package dev.qwen2j.jmh;

import dev.qwen2j.tensor.CpuBackend;
import dev.qwen2j.tensor.FmaPeak;
import dev.qwen2j.tensor.MemoryBandwidth;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs {@link AttentionBenchmark} with {@link KernelBenchmark}'s bandwidth and FMA probes in one JMH run and
 * prints decode attention as a share of the read bandwidth and prefill attention as a share of the FMA peak.
 * {@code ./build bench-report Attention} (extra arguments go to JMH, e.g. {@code -p context=4096}).
 */
public final class AttentionReport {

    private AttentionReport() {
    }

    public static void main(String[] args) throws RunnerException, CommandLineOptionException {
        CommandLineOptions commandLine = new CommandLineOptions(args);
        OptionsBuilder builder = new OptionsBuilder();
        builder.parent(commandLine);
        if (commandLine.getIncludes().isEmpty()) {
            builder.include(AttentionBenchmark.class.getName() + "\\.");
            builder.include(KernelBenchmark.class.getName() + "\\.(readBandwidth|fmaPeak)$");
        }
        double streamMicros = Double.NaN;
        double fmaMicros = Double.NaN;
        List<RunResult> attention = new ArrayList<>();
        for (RunResult result : new Runner(builder.build()).run()) {
            String method = result.getParams().getBenchmark();
            method = method.substring(method.lastIndexOf('.') + 1);
            switch (method) {
                case "readBandwidth" -> streamMicros = result.getPrimaryResult().getScore();
                case "fmaPeak" -> fmaMicros = result.getPrimaryResult().getScore();
                default -> attention.add(result);
            }
        }
        double bandwidth = MemoryBandwidth.BYTES / (streamMicros * 1e3);
        double peak;
        try (CpuBackend backend = CpuBackend.create(0)) {
            peak = FmaPeak.flops(backend, KernelBenchmark.FMA_ITERATIONS) / (fmaMicros * 1e3);
        }
        System.out.println();
        System.out.printf("Attention, Qwen2.5-0.5B shape (%d threads; ceilings measured in this run: %.1f GB/s, %.1f GFLOP/s)%n",
                CpuBackend.physicalCores(), bandwidth, peak);
        System.out.printf("%-18s %8s %6s %12s %12s %16s %10s%n", "benchmark", "context", "kv", "µs/op", "± µs", "rate", "of ceiling");
        for (RunResult r : attention) {
            String method = r.getParams().getBenchmark();
            method = method.substring(method.lastIndexOf('.') + 1);
            int context = Integer.parseInt(r.getParams().getParam("context"));
            String kv = r.getParams().getParam("kvCache");
            double us = r.getPrimaryResult().getScore();
            double err = r.getPrimaryResult().getScoreError();
            if (method.equals("decode")) {
                double gbps = AttentionBenchmark.decodeBytes(kv, context) / (us * 1e3);
                System.out.printf("%-18s %8d %6s %12.1f %12.1f %11.1f GB/s %9.0f%%%n", method, context, kv, us, err, gbps,
                        100 * gbps / bandwidth);
            } else {
                double gflops = AttentionBenchmark.prefillFlops(context) / (us * 1e3);
                System.out.printf("%-18s %8d %6s %12.1f %12.1f %8.1f GFLOP/s %9.0f%%%n", method, context, kv, us, err, gflops,
                        100 * gflops / peak);
            }
        }
    }
}
