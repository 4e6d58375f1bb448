package dev.qwen2j.jmh;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
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
 * tokenizer files, same JVM, same run: through DJL's public API and, to separate the Rust tokenizer's own
 * speed from DJL's Java-side Encoding objects, through its JNI binding fetching ids only. All keep a
 * word cache across calls, as in real use. Single thread.
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
    private long rustHandle;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        folder = Files.createTempDirectory("qwen2j-tokenizer-bench");
        BundledTokenizer.copyTo(folder);
        qwen2j = Tokenizer.load(folder);
        djl = HuggingFaceTokenizer.builder().optTokenizerPath(folder).optAddSpecialTokens(false)
                .optTruncation(false).optPadding(false).optMaxLength(Integer.MAX_VALUE / 2).build();
        rustHandle = TokenizersLibrary.LIB.createTokenizerFromString(Files.readString(folder.resolve("tokenizer.json")));
        TokenizersLibrary.LIB.disableTruncation(rustHandle);
        TokenizersLibrary.LIB.disablePadding(rustHandle);
        long[] expected = djl.encode(TEXT).getIds();
        if (!Arrays.equals(expected, Arrays.stream(qwen2j.encode(TEXT)).asLongStream().toArray())
                || !Arrays.equals(expected, encodeRustIdsOnly())) {
            throw new IllegalStateException("qwen2j and DJL disagree on the benchmark text");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        djl.close();
        TokenizersLibrary.LIB.deleteTokenizer(rustHandle);
        Files.deleteIfExists(folder.resolve("tokenizer.json"));
        Files.deleteIfExists(folder.resolve("tokenizer_config.json"));
        Files.deleteIfExists(folder);
    }

    @Benchmark
    public int[] encodeQwen2j() {
        return qwen2j.encode(TEXT);
    }

    /** DJL's public API: the Rust encode plus building DJL's Encoding (tokens, spans, masks) in Java. */
    @Benchmark
    public long[] encodeDjl() {
        return djl.encode(TEXT).getIds();
    }

    /** The Rust tokenizer alone, through DJL's JNI binding: encode, fetch the ids, free the encoding. */
    @Benchmark
    public long[] encodeRustIdsOnly() {
        long encoding = TokenizersLibrary.LIB.encode(rustHandle, TEXT, false);
        try {
            return TokenizersLibrary.LIB.getTokenIds(encoding);
        } finally {
            TokenizersLibrary.LIB.deleteEncoding(encoding);
        }
    }
}
