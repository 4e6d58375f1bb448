package dev.qwen2j.jmh;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.CpuBackend;
import dev.qwen2j.tensor.KvCacheLayer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Attention of the Qwen2.5-0.5B shape (14 query heads, 2 KV heads, head_dim 64) over a long context, all 24
 * layers' caches in turn so that decode reads them from DRAM as a real step does. {@link AttentionReport}
 * quotes decode against the read bandwidth and prefill against the FMA peak measured in the same run
 * (by {@link KernelBenchmark}'s probes).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class AttentionBenchmark {

    public static final int HEADS = 14;
    public static final int KV_HEADS = 2;
    public static final int HEAD_DIM = 64;
    /** Layers' caches in rotation; {@code -Dqwen2j.bench.layers=1} keeps one (L2-sized at 4,096) to time the kernel's compute alone. */
    public static final int LAYERS = Integer.getInteger("qwen2j.bench.layers", 24);
    /** Query tokens of one prefill block, the last block of a {@code context}-token prompt. */
    public static final int PREFILL_TOKENS = 128;

    @State(Scope.Benchmark)
    public static class Context {
        @Param({"4096", "16384"})
        public int context;

        @Param({"F32", "BF16", "I8"})
        public String kvCache;

        CpuBackend backend;
        Arena arena;
        KvCacheLayer[] layers;
        float[] q;
        float[] out;
        int layer;

        @Setup(Level.Trial)
        public void setUp() {
            backend = CpuBackend.create(0);
            arena = Arena.ofShared();
            DType dtype = DType.valueOf(kvCache);
            layers = new KvCacheLayer[LAYERS];
            SplittableRandom random = new SplittableRandom(7);
            int kvWidth = KV_HEADS * HEAD_DIM;
            float[] kv = new float[PREFILL_TOKENS * 2 * kvWidth];
            for (int l = 0; l < LAYERS; l++) {
                layers[l] = KvCacheLayer.allocate(arena, dtype, KV_HEADS, context, HEAD_DIM);
                for (int p = 0; p < context; p += PREFILL_TOKENS) {
                    for (int i = 0; i < kv.length; i++) {
                        kv[i] = (float) random.nextDouble(-1, 1);
                    }
                    backend.storeKv(layers[l], kv, 0, kvWidth, 2 * kvWidth, Math.min(PREFILL_TOKENS, context - p), p);
                }
            }
            q = new float[PREFILL_TOKENS * HEADS * HEAD_DIM];
            for (int i = 0; i < q.length; i++) {
                q[i] = (float) random.nextDouble(-1, 1);
            }
            out = new float[q.length];
        }

        KvCacheLayer next() {
            layer = (layer + 1) % LAYERS;
            return layers[layer];
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            backend.close();
            arena.close();
        }
    }

    /** One decoded token at the end of the context, one layer (the next of 24 each call). */
    @Benchmark
    public float[] decode(Context c) {
        c.backend.attention(c.q, 0, HEADS * HEAD_DIM, HEADS, c.next(), 1, c.context - 1, 0, c.out);
        return c.out;
    }

    /** The last 128-token prefill block of a {@code context}-token prompt, one layer. */
    @Benchmark
    public float[] prefillLastBlock(Context c) {
        c.backend.attention(c.q, 0, HEADS * HEAD_DIM, HEADS, c.next(), PREFILL_TOKENS, c.context - PREFILL_TOKENS, 0, c.out);
        return c.out;
    }

    /** Bytes a decode step reads: keys and values of every position (scales included for I8). */
    public static long decodeBytes(String kvCache, int context) {
        return KvCacheLayer.bytes(DType.valueOf(kvCache), KV_HEADS, context, HEAD_DIM);
    }

    /** Multiply-adds of the prefill block, counted as 2 flops each: q·k and p·v over every visible position. */
    public static double prefillFlops(int context) {
        double positions = 0;
        for (int t = 0; t < PREFILL_TOKENS; t++) {
            positions += context - PREFILL_TOKENS + t + 1;
        }
        return 2.0 * 2.0 * HEADS * HEAD_DIM * positions;
    }
}
