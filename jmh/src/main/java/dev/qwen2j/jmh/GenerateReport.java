package dev.qwen2j.jmh;

import java.util.HashMap;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link GenerateBenchmark} and prints prefill and decode tokens per second of qwen2j and Jlama, measured in
 * the same run on the same folder, and their ratios. {@code ./build bench-report Generate} (extra arguments go
 * to JMH, e.g. {@code -wi 1 -i 2}).
 */
public final class GenerateReport {

    private GenerateReport() {
    }

    public static void main(String[] args) throws RunnerException, CommandLineOptionException {
        Options options = new OptionsBuilder()
                .parent(new CommandLineOptions(args))
                .include(GenerateBenchmark.class.getName() + "\\.")
                .build();
        Map<String, Double> millis = new HashMap<>();
        for (RunResult result : new Runner(options).run()) {
            String method = result.getParams().getBenchmark();
            millis.put(method.substring(method.lastIndexOf('.') + 1), result.getPrimaryResult().getScore());
        }
        double qPrefill = tokensPerSecond(GenerateBenchmark.PROMPT_TOKENS, millis.get("qwen2jPrefill128"));
        double jPrefill = tokensPerSecond(GenerateBenchmark.PROMPT_TOKENS, millis.get("jlamaPrefill128"));
        double qDecode = tokensPerSecond(GenerateBenchmark.DECODE_TOKENS, millis.get("qwen2jDecode65"));
        double jDecode = tokensPerSecond(GenerateBenchmark.DECODE_TOKENS, millis.get("jlamaDecode65"));
        System.out.println();
        System.out.printf("Qwen2.5-0.5B shape, BF16, %d threads, same run (the machine may be shared)%n",
                GenerateBenchmark.threads());
        System.out.printf("%-22s %12s %12s %10s%n", "", "qwen2j", "Jlama 0.8.4", "ratio");
        System.out.printf("%-22s %12.1f %12.1f %9.2fx%n", "prefill 128 (tok/s)", qPrefill, jPrefill, qPrefill / jPrefill);
        System.out.printf("%-22s %12.2f %12.2f %9.2fx%n", "decode (tok/s)", qDecode, jDecode, qDecode / jDecode);
    }

    private static double tokensPerSecond(int tokens, Double millisPerOp) {
        return millisPerOp == null ? Double.NaN : tokens / (millisPerOp / 1e3);
    }
}
