package dev.qwen2j.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwen2j.core.config.Qwen2Config;
import dev.qwen2j.core.tokenizer.Tokenizer;
import dev.qwen2j.model.DepthSpeed;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.GenerationResult;
import dev.qwen2j.model.Model;
import dev.qwen2j.model.SelfConsistencyResult;
import dev.qwen2j.tensor.CpuBackend;
import dev.qwen2j.tensor.MemoryBandwidth;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code qwen2j bench}: load, prefill and decode speed of one model on this machine, against the machine's
 * measured read bandwidth (decode streams every weight once per token, so bandwidth is its ceiling).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure load time, prefill and decode speed, memory, and decode speed as a share of the",
                "memory-bandwidth roofline. Warms up first, then prints one JSON line (medians of the runs).",
                "Any model folder works; 'qwen2j synth' writes a random one of a real model's shape."})
final class BenchCommand implements Callable<Integer> {

    /** The most warm-up or measured runs: a median of more says nothing new. */
    static final int MAX_RUNS = 1000;

    @Mixin
    ModelSource source;

    @Option(names = "--prompt-tokens", defaultValue = "128", paramLabel = "N",
            description = "Prompt length in tokens (default ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--gen-tokens", defaultValue = "64", paramLabel = "N",
            description = "Tokens to decode (default ${DEFAULT-VALUE}); end-of-sequence does not stop it.")
    int genTokens;

    @Option(names = "--context", defaultValue = "0", paramLabel = "N",
            description = {"Measure decode after N tokens of context instead: the context is prefilled once (its speed",
                    "is prefill_tok_s), then each run decodes --gen-tokens after it; adds \"context\":N to the line."})
    int context;

    @Option(names = "--warmup", defaultValue = "1", paramLabel = "N", description = "Warm-up runs (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--runs", defaultValue = "3", paramLabel = "N", description = "Measured runs (default ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--batch", paramLabel = "N",
            description = "Also decode N sequences of the prompt in one batch: adds \"batch\" and \"batch_decode_tok_s\".")
    Integer batch;

    @Mixin
    CommandErrors.Verbosity verbosity;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (promptTokens < 1 || genTokens < 1) {
            throw new IllegalArgumentException("--prompt-tokens and --gen-tokens must be >= 1");
        }
        if (warmup < 0 || warmup > MAX_RUNS || runs < 1 || runs > MAX_RUNS) {
            throw new IllegalArgumentException("--warmup must be in [0, " + MAX_RUNS + "] and --runs in [1, "
                    + MAX_RUNS + "], got " + warmup + " and " + runs);
        }
        if (context < 0) {
            throw new IllegalArgumentException("--context must be >= 0, got " + context);
        }
        if (batch != null && batch < 1) {
            throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        }
        source.checkThreads();
        // Checked against the model's limit before loading: a too long prompt would otherwise tokenize and
        // prefill for minutes before anything fails. In long arithmetic, so that huge values cannot overflow.
        String before = context > 0 ? "--context " + context : "--prompt-tokens " + promptTokens;
        long positions = (long) (context > 0 ? context : promptTokens) + genTokens;
        int limit = Qwen2Config.load(ModelPaths.resolve(source.model)).maxPositionEmbeddings();
        if (positions > limit) {
            throw new IllegalArgumentException(before + " + --gen-tokens " + genTokens
                    + " = " + positions + " positions, more than the model's context limit of " + limit
                    + " (max_position_embeddings in config.json)");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Map<String, Object> line = new LinkedHashMap<>();
        double decodeTokS;
        long weightBytes;
        try (Model model = source.load((int) positions, err)) {
            line.put("backend", model.backendName());
            line.put("device", source.device.toLowerCase(Locale.ROOT));
            line.put("weights", model.weightsFormat());
            line.put("kv_cache", source.kvCache.toLowerCase(Locale.ROOT));
            line.put("load_ms", source.loadMillis);
            line.put("quantize_ms", model.quantizeMillis());
            double prefillTokS;
            if (context > 0) {
                int[] ids = model.tokenizer().encode(promptOf(model.tokenizer(), context));
                DepthSpeed speed = model.decodeSpeedAfter(ids, genTokens, warmup + runs);
                double[] decode = Arrays.copyOfRange(speed.decodeTokensPerSecond(), warmup, warmup + runs);
                for (int i = 0; i < runs; i++) {
                    err.printf(Locale.ROOT, "bench: run %d/%d decode %.2f tok/s after %d tokens%n", i + 1, runs,
                            decode[i], context);
                }
                err.flush();
                prefillTokS = speed.prefillTokensPerSecond();
                decodeTokS = median(decode);
            } else {
                String prompt = promptOf(model.tokenizer(), promptTokens);
                GenerationOptions options = GenerationOptions.builder().chat(false).temperature(0).maxTokens(genTokens)
                        .stopTokenIds(Integer.MAX_VALUE) // no real token id: decode the full length every run
                        .build();
                for (int i = 0; i < warmup; i++) {
                    model.generate(prompt, options, text -> { });
                }
                double[] prefill = new double[runs];
                double[] decode = new double[runs];
                for (int i = 0; i < runs; i++) {
                    GenerationResult r = model.generate(prompt, options, text -> { });
                    if (r.promptTokens() != promptTokens) {
                        throw new IllegalStateException("prompt had " + r.promptTokens() + " tokens, not " + promptTokens);
                    }
                    prefill[i] = r.prefillTokensPerSecond();
                    decode[i] = r.decodeTokensPerSecond();
                    err.printf(Locale.ROOT, "bench: run %d/%d prefill %.1f tok/s, decode %.2f tok/s%n", i + 1, runs,
                            prefill[i], decode[i]);
                    err.flush();
                }
                prefillTokS = median(prefill);
                decodeTokS = median(decode);
            }
            weightBytes = model.weightBytes();
            line.put("prefill_tok_s", round(prefillTokS, 1));
            line.put("decode_tok_s", round(decodeTokS, 2));
            if (batch != null) {
                line.put("batch", batch);
                line.put("batch_decode_tok_s", round(batchDecodeTokensPerSecond(model, context > 0 ? context : promptTokens, err), 2));
            }
            line.put("weight_bytes", weightBytes);
            line.put("kv_bytes", model.kvCacheBytes());
            line.put("peak_rss_mb", peakRssMegabytes()); // before the bandwidth buffer raises it
        }
        double bandwidth;
        try (CpuBackend backend = CpuBackend.create(source.threads)) {
            bandwidth = MemoryBandwidth.measureReadGBps(backend);
        }
        line.put("read_bandwidth_gb_s", round(bandwidth, 2));
        line.put("decode_roofline_pct", round(100.0 * weightBytes * decodeTokS / (bandwidth * 1e9), 1));
        if (context > 0) {
            line.put("context", context);
        }
        out.println(new ObjectMapper().writeValueAsString(line));
        out.flush();
        return 0;
    }

    /**
     * Decode tokens per second of all {@link #batch} sequences together after a prompt of {@code contextTokens}, median
     * of the runs: the prompt is prefilled once and the sequences decode greedily from it in one batch (self-consistency
     * with {@code batch} samples). Each sequence's rate is its tokens over the batch's decode time (they all decode the
     * full length), so the rates add up.
     */
    private double batchDecodeTokensPerSecond(Model model, int contextTokens, PrintWriter err) {
        String prompt = promptOf(model.tokenizer(), contextTokens);
        GenerationOptions options = GenerationOptions.builder().chat(false).temperature(0).maxTokens(genTokens)
                .stopTokenIds(Integer.MAX_VALUE).samples(batch).build();
        for (int i = 0; i < warmup; i++) {
            model.selfConsistency(prompt, options);
        }
        double[] rates = new double[runs];
        for (int i = 0; i < runs; i++) {
            SelfConsistencyResult r = model.selfConsistency(prompt, options);
            for (GenerationResult sample : r.samples()) {
                rates[i] += sample.decodeTokensPerSecond();
            }
            err.printf(Locale.ROOT, "bench: batch %d run %d/%d decode %.2f tok/s, KV %.1f MB%n", batch, i + 1, runs,
                    rates[i], r.kvCacheBytes() / 1e6);
            err.flush();
        }
        return median(rates);
    }

    /**
     * A text that encodes to exactly {@code tokens} tokens: "the" then " the" repeated (each one token in
     * byte-level BPE vocabularies, since the pre-tokenizer splits at the spaces).
     */
    static String promptOf(Tokenizer tokenizer, int tokens) {
        String text = "the" + " the".repeat(tokens - 1);
        int actual = tokenizer.encode(text).length;
        if (actual != tokens) {
            throw new IllegalStateException("this tokenizer encodes the benchmark prompt of " + tokens
                    + " words to " + actual + " tokens");
        }
        return text;
    }

    /** VmHWM of /proc/self/status in MiB, or -1 where there is no /proc. */
    static long peakRssMegabytes() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return -1;
        }
        for (String l : Files.readAllLines(status)) {
            if (l.startsWith("VmHWM:")) {
                long kilobytes = Long.parseLong(l.replaceAll("[^0-9]", ""));
                return Math.round(kilobytes / 1024.0); // MiB
            }
        }
        return -1;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double round(double value, int decimals) {
        double scale = Math.pow(10, decimals);
        return Math.round(value * scale) / scale;
    }
}
