package dev.qwen2j.jmh;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.qwen2j.core.checkpoint.BundledTokenizer;
import dev.qwen2j.core.tokenizer.Tokenizer;
import dev.qwen2j.core.tokenizer.TokenizerCorpus;
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

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Encoding ~1 MB of mixed text (prose, code, whitespace runs, numbers, CJK, Arabic, Devanagari, emoji,
 * special tokens, random Unicode) with qwen2j and with Hugging Face's Rust tokenizer through DJL, same
 * tokenizer files, same JVM, same run. Both keep a word cache across calls, as in real use. Single thread.
 * {@link TokenizerReport} turns the times into MB/s: {@code ./build bench-report Tokenizer}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class TokenizerBenchmark {

    /** The text encoded by every call. */
    public static final String TEXT = TokenizerCorpus.oneMegabyte();
    public static final long TEXT_BYTES = TEXT.getBytes(StandardCharsets.UTF_8).length;

    private Path folder;
    private Tokenizer qwen2j;
    private HuggingFaceTokenizer djl;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        folder = Files.createTempDirectory("qwen2j-tokenizer-bench");
        BundledTokenizer.copyTo(folder);
        qwen2j = Tokenizer.load(folder);
        djl = HuggingFaceTokenizer.builder().optTokenizerPath(folder).optAddSpecialTokens(false)
                .optTruncation(false).optPadding(false).optMaxLength(Integer.MAX_VALUE / 2).build();
        long[] expected = djl.encode(TEXT).getIds();
        if (!Arrays.equals(expected, Arrays.stream(qwen2j.encode(TEXT)).asLongStream().toArray())) {
            throw new IllegalStateException("qwen2j and DJL disagree on the benchmark text");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        djl.close();
        Files.deleteIfExists(folder.resolve("tokenizer.json"));
        Files.deleteIfExists(folder.resolve("tokenizer_config.json"));
        Files.deleteIfExists(folder);
    }

    @Benchmark
    public int[] encodeQwen2j() {
        return qwen2j.encode(TEXT);
    }

    @Benchmark
    public long[] encodeDjl() {
        return djl.encode(TEXT).getIds();
    }
}
