package dev.qwen2j.jmh;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import com.github.tjake.jlama.util.PhysicalCoreExecutor;
import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.Model;
import dev.qwen2j.model.ModelOptions;
import dev.qwen2j.tensor.CpuBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * qwen2j against Jlama 0.8.4 on the same Qwen2.5-0.5B-shaped BF16 folder (random weights), with the same number
 * of threads: prefill of {@value #PROMPT_TOKENS} prompt tokens (through the first next-token distribution), and
 * decoding of {@value #DECODE_TOKENS} tokens, greedily (one forward pass and one argmax per token).
 *
 * <p>Jlama's token is {@code forward} and then {@code sample}, as in its own {@code generate}: its {@code forward}
 * stops at the last layer's hidden state, and the final norm and the lm_head (151936 × 896, 27% of the 0.5B
 * model's bytes) run in {@code sample}. A loop that times {@code forward} alone reads about 1.27× faster (14.0
 * against 11.0 tok/s on a 2-core Xeon, 2026-12-02) and does not produce a token: that was the "plain loop" figure
 * that disagreed with this benchmark. {@code sample} at temperature 0 is an argmax with no softmax, 2% faster than
 * {@code getLogits}; Jlama's working types (F32/I8, F32/BF16, F32/F32) decode within 3% of each other there.
 * {@link GenerateReport} runs it and prints tokens per second and the ratios.
 *
 * <p>Run: {@code ./build bench-report Generate}. The folder (~1 GB) is written once to
 * {@code $TMPDIR/qwen2j-bench/qwen2.5-0.5b-bf16} (or {@code -Dqwen2j.bench.model=DIR}) and kept for later runs.
 * Threads: {@code -Dqwen2j.bench.threads=N}, default the physical cores.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 10)
@Measurement(iterations = 3, time = 10)
public class GenerateBenchmark {

    static final int PROMPT_TOKENS = 128;
    /** Forward passes of the decode benchmark: one 1-token prompt, then 64 decode steps. */
    static final int DECODE_TOKENS = 65;

    /** The benchmark folder, written on first use (atomically, so an interrupted write is never reused). */
    static Path modelFolder() throws IOException {
        String configured = System.getProperty("qwen2j.bench.model");
        Path folder = configured != null ? Path.of(configured)
                : Path.of(System.getProperty("java.io.tmpdir"), "qwen2j-bench", "qwen2.5-0.5b-bf16");
        if (Files.isDirectory(folder)) {
            return folder;
        }
        Files.createDirectories(folder.getParent());
        Path temp = Files.createTempDirectory(folder.getParent(), ".writing-");
        try {
            RandomQwen2Checkpoint.qwen25_05b().write(temp);
            Files.move(temp, folder, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            if (Files.exists(temp)) {
                try (Stream<Path> paths = Files.walk(temp)) {
                    for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
        }
        return folder;
    }

    static int threads() {
        return Integer.getInteger("qwen2j.bench.threads", CpuBackend.physicalCores());
    }

    /** A raw prompt of exactly {@value #PROMPT_TOKENS} tokens: "the" and " the" are one token each. */
    static String prompt(int tokens) {
        return "the" + " the".repeat(tokens - 1);
    }

    @State(Scope.Benchmark)
    public static class Qwen2j {
        Model model;
        String prompt128;
        String prompt1;
        GenerationOptions prefillOnly;
        GenerationOptions decode;

        @Setup(Level.Trial)
        public void load() throws IOException {
            model = Model.load(modelFolder(), ModelOptions.builder().threads(threads()).contextLength(512).build());
            prompt128 = prompt(PROMPT_TOKENS);
            prompt1 = prompt(1);
            if (model.tokenizer().encode(prompt128).length != PROMPT_TOKENS) {
                throw new IllegalStateException("benchmark prompt is not " + PROMPT_TOKENS + " tokens");
            }
            // No real token id stops it: every run does the same work.
            GenerationOptions.Builder greedy = GenerationOptions.builder().chat(false).temperature(0)
                    .stopTokenIds(Integer.MAX_VALUE);
            prefillOnly = greedy.maxTokens(1).build();
            decode = greedy.maxTokens(DECODE_TOKENS).build();
        }

        @TearDown(Level.Trial)
        public void close() {
            model.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Jlama {
        AbstractModel model;
        KvBufferCache caches;
        /** Where {@code sample} writes the logits: allocated once, as Jlama's own {@code generate} does. */
        AbstractTensor logits;
        int[] prompt128;
        int token1;

        @Setup(Level.Trial)
        public void load() throws IOException {
            PhysicalCoreExecutor.overrideThreadCount(threads());
            // Jlama's documented setup: F32 working memory, I8 working quantization; for BF16 weights Jlama then
            // logs "Quantized memory type = BF16" (it rounds activations to BF16 for its BF16 dot products).
            // Without jlama-native on the classpath it uses its Panama Vector API kernels: pure Java, like qwen2j.
            model = ModelSupport.loadModel(modelFolder().toFile(), com.github.tjake.jlama.safetensors.DType.F32,
                    com.github.tjake.jlama.safetensors.DType.I8);
            caches = new KvBufferCache(model);
            logits = model.makeDenseTensor(model.getConfig().vocabularySize);
            // The same token ids qwen2j feeds (both read the folder's tokenizer.json).
            try (Model tokenizerSource = Model.load(modelFolder(),
                    ModelOptions.builder().threads(1).contextLength(16).build())) {
                prompt128 = tokenizerSource.tokenizer().encode(prompt(PROMPT_TOKENS));
                token1 = prompt128[0];
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            logits.close();
            model.close();
        }
    }

    @Benchmark
    public String qwen2jPrefill128(Qwen2j s) {
        return s.model.generate(s.prompt128, s.prefillOnly, text -> { }).text();
    }

    @Benchmark
    public String qwen2jDecode65(Qwen2j s) {
        return s.model.generate(s.prompt1, s.decode, text -> { }).text();
    }

    @Benchmark
    public int jlamaPrefill128(Jlama s) {
        try (KvBufferCache.KvBuffer kv = s.caches.getEphemeralKvBuffer()) {
            AbstractTensor out = s.model.batchForward(s.prompt128, 0, kv);
            return s.model.sample(out.slice(out.shape().first() - 1), 0f, 0.5f, s.logits);
        }
    }

    @Benchmark
    public int jlamaDecode65(Jlama s) {
        try (KvBufferCache.KvBuffer kv = s.caches.getEphemeralKvBuffer()) {
            int token = s.token1;
            for (int position = 0; position < DECODE_TOKENS; position++) {
                AbstractTensor out = s.model.forward(token, position, kv, Optional.empty());
                token = s.model.sample(out, 0f, 0.5f, s.logits); // temperature 0: the argmax
                out.close();
            }
            return token;
        }
    }

}
