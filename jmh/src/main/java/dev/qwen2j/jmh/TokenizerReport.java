package dev.qwen2j.jmh;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.util.HashMap;
import java.util.Map;

/**
 * Runs {@link TokenizerBenchmark} and prints the encoding speed of qwen2j and of DJL (Hugging Face's Rust
 * tokenizer) in MB/s of UTF-8 input, and their ratio. {@code ./build bench-report Tokenizer} (extra
 * arguments go to JMH, e.g. {@code -wi 2 -i 3}).
 */
public final class TokenizerReport {

    private TokenizerReport() {
    }

    public static void main(String[] args) throws RunnerException, CommandLineOptionException {
        var options = new OptionsBuilder()
                .parent(new CommandLineOptions(args))
                .include(TokenizerBenchmark.class.getName() + "\\.")
                .build();
        Map<String, double[]> millis = new HashMap<>();
        for (RunResult result : new Runner(options).run()) {
            String method = result.getParams().getBenchmark();
            method = method.substring(method.lastIndexOf('.') + 1);
            millis.put(method, new double[] {result.getPrimaryResult().getScore(), result.getPrimaryResult().getScoreError()});
        }
        double megabytes = TokenizerBenchmark.TEXT_BYTES / 1e6;
        System.out.println();
        System.out.printf("Tokenizer encode, %.2f MB of mixed UTF-8 text, one thread (the machine may be shared)%n", megabytes);
        System.out.printf("%-14s %10s %10s %10s%n", "tokenizer", "ms/op", "± ms", "MB/s");
        // DJL encode = HuggingFaceTokenizer.encode (Rust + DJL's Encoding); Rust ids only = its JNI, ids fetched.
        double qwen = row("qwen2j", millis.get("encodeQwen2j"), megabytes);
        double djl = row("DJL encode", millis.get("encodeDjl"), megabytes);
        double rust = row("Rust ids only", millis.get("encodeRustIdsOnly"), megabytes);
        if (!Double.isNaN(qwen) && !Double.isNaN(djl)) {
            System.out.printf("qwen2j / DJL encode:          %.2fx (goal ≥ 1)%n", qwen / djl);
        }
        if (!Double.isNaN(qwen) && !Double.isNaN(rust)) {
            System.out.printf("qwen2j / Rust via JNI, ids:   %.2fx%n", qwen / rust);
        }
    }

    private static double row(String name, double[] ms, double megabytes) {
        if (ms == null) {
            return Double.NaN;
        }
        double rate = megabytes / (ms[0] / 1e3);
        System.out.printf("%-14s %10.1f %10.1f %10.2f%n", name, ms[0], ms[1], rate);
        return rate;
    }
}
