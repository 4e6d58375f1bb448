package dev.qwen2j.jmh;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.Backend;
import dev.qwen2j.tensor.CpuBackend;
import dev.qwen2j.tensor.FmaPeak;
import dev.qwen2j.tensor.MemoryBandwidth;
import dev.qwen2j.tensor.Parallel;
import dev.qwen2j.tensor.Tensor;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The CPU kernels against the machine: read bandwidth and FMA peak are benchmarks of this class too, so
 * {@link KernelReport} quotes every kernel against ceilings measured in the same run. All use every
 * physical core. Decode-sized weights rotate through more copies than the L3 holds (as the 24 layers of
 * Qwen2.5-0.5B do), so they are read from DRAM as in a real decode step.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class KernelBenchmark {

    public static final int HIDDEN = 896;
    public static final int INTERMEDIATE = 4864;
    public static final int VOCAB = 151936;
    public static final int KV_WIDTH = 128;
    public static final int PREFILL_TOKENS = 128;
    public static final int BATCH = 8;
    /** Copies of the decode-sized matrices: 32 × 8.7 MB and 24 × 2.1 MB, both well beyond a 32 MB L3. */
    public static final int MLP_COPIES = 32;
    public static final int LAYERS = 24;
    public static final long FMA_ITERATIONS = 2_000_000;

    @State(Scope.Benchmark)
    public static class Cpu {
        public CpuBackend backend;

        @Setup(Level.Trial)
        public void setUp() {
            backend = CpuBackend.create(0);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            backend.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Stream {
        Arena arena;
        MemorySegment buffer;

        @Setup(Level.Trial)
        public void setUp() {
            arena = Arena.ofShared();
            buffer = arena.allocate(MemoryBandwidth.BYTES, 4096);
            buffer.fill((byte) 1);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    /** Weights and activations for one shape: {@code copies} matrices of {@code parts}, x for {@code tokens}. */
    public abstract static class Linear {
        Arena arena;
        Backend.LinearWeights[] weights;
        float[] x;
        float[] y;
        int next;

        void prepare(CpuBackend backend, int copies, int[] partRows, boolean bias, int tokens) {
            arena = Arena.ofShared();
            SplittableRandom random = new SplittableRandom(42);
            weights = new Backend.LinearWeights[copies];
            int out = 0;
            for (int rows : partRows) {
                out += rows;
            }
            for (int c = 0; c < copies; c++) {
                List<Tensor> parts = new java.util.ArrayList<>();
                List<Tensor> biases = new java.util.ArrayList<>();
                for (int rows : partRows) {
                    parts.add(randomBf16("w" + c, rows, HIDDEN, random));
                    biases.add(bias ? randomBf16("b" + c, 1, rows, random) : null);
                }
                weights[c] = backend.linear(parts, bias ? biases : null);
            }
            activations(random, tokens, out);
        }

        /** Random inputs for {@code tokens} tokens, and room for {@code out} outputs each. */
        void activations(SplittableRandom random, int tokens, int out) {
            x = new float[tokens * HIDDEN];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextDouble(-1, 1);
            }
            y = new float[tokens * out];
        }

        Backend.LinearWeights nextWeights() {
            Backend.LinearWeights w = weights[next];
            next = next + 1 == weights.length ? 0 : next + 1;
            return w;
        }

        private Tensor randomBf16(String name, int rows, int cols, SplittableRandom random) {
            long count = (long) rows * cols;
            MemorySegment data = arena.allocate(count * 2, 64);
            for (long i = 0; i < count; i++) {
                // |w| in [2⁻⁷, 1): normal numbers of the size real weights have, random signs and mantissas
                int bits = (random.nextInt(2) << 15) | ((120 + random.nextInt(7)) << 7) | random.nextInt(128);
                data.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * i, (short) bits);
            }
            return new Tensor(name, data, DType.BF16, rows, cols);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Mlp extends Linear {
        @Setup(Level.Trial)
        public void setUp(Cpu cpu) {
            prepare(cpu.backend, MLP_COPIES, new int[]{INTERMEDIATE}, false, 1);
        }
    }

    @State(Scope.Benchmark)
    public static class Vocab extends Linear {
        @Setup(Level.Trial)
        public void setUp(Cpu cpu) {
            prepare(cpu.backend, 1, new int[]{VOCAB}, false, 1);
        }
    }

    @State(Scope.Benchmark)
    public static class Qkv extends Linear {
        @Setup(Level.Trial)
        public void setUp(Cpu cpu) {
            prepare(cpu.backend, LAYERS, new int[]{HIDDEN, KV_WIDTH, KV_WIDTH}, true, 1);
        }
    }

    @State(Scope.Benchmark)
    public static class Prefill extends Linear {
        @Setup(Level.Trial)
        public void setUp(Cpu cpu) {
            prepare(cpu.backend, 1, new int[]{INTERMEDIATE}, false, PREFILL_TOKENS);
        }
    }

    /** Decode of a batch of {@link #BATCH} sequences: gate-sized weights from DRAM, as in a batched step. */
    @State(Scope.Benchmark)
    public static class Batch extends Linear {
        @Setup(Level.Trial)
        public void setUp(Cpu cpu) {
            prepare(cpu.backend, MLP_COPIES, new int[]{INTERMEDIATE}, false, BATCH);
        }
    }

    private static final Parallel.Body NOTHING = (from, to) -> { };

    /** Streams 1 GiB ({@link MemoryBandwidth#BYTES}) with all threads. */
    @Benchmark
    public float readBandwidth(Cpu cpu, Stream stream) {
        return MemoryBandwidth.streamSum(stream.buffer, cpu.backend);
    }

    /** {@link #FMA_ITERATIONS} rounds of register-only FMAs on every thread. */
    @Benchmark
    public float fmaPeak(Cpu cpu) {
        return FmaPeak.run(cpu.backend, FMA_ITERATIONS);
    }

    /** gate- or up-sized BF16 matvec, 4864 × 896. */
    @Benchmark
    public float[] matvecBf16Mlp(Cpu cpu, Mlp mlp) {
        cpu.backend.linear(mlp.nextWeights(), mlp.x, mlp.y, 1);
        return mlp.y;
    }

    /** lm_head-sized BF16 matvec, 151936 × 896. */
    @Benchmark
    public float[] matvecBf16Vocab(Cpu cpu, Vocab vocab) {
        cpu.backend.linear(vocab.nextWeights(), vocab.x, vocab.y, 1);
        return vocab.y;
    }

    /** q, k and v of one Qwen2.5-0.5B layer (896 + 128 + 128 rows, with biases) in one call. */
    @Benchmark
    public float[] matvecBf16QkvFused(Cpu cpu, Qkv qkv) {
        cpu.backend.linear(qkv.nextWeights(), qkv.x, qkv.y, 1);
        return qkv.y;
    }

    /** Prefill: 128 F32 tokens through a BF16 4864 × 896 matrix. */
    @Benchmark
    public float[] matmulBf16Prefill128(Cpu cpu, Prefill prefill) {
        cpu.backend.linear(prefill.nextWeights(), prefill.x, prefill.y, PREFILL_TOKENS);
        return prefill.y;
    }

    /** One step of {@link #BATCH} sequences through a BF16 4864 × 896 matrix, batch invariant as batch sessions run. */
    @Benchmark
    public float[] matmulBf16Batch8(Cpu cpu, Batch batch) {
        cpu.backend.linearBatchInvariant(batch.nextWeights(), batch.x, batch.y, BATCH);
        return batch.y;
    }

    /** Busy work per chunk of {@link #parallelForBusyChunks}: long enough that every thread must take one. */
    public static final long BUSY_CHUNK_NANOS = 5_000;
    private static final Parallel.Body BUSY = (from, to) -> {
        long end = System.nanoTime() + BUSY_CHUNK_NANOS;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    };

    /**
     * One 5 µs chunk per thread: ideally 5 µs in all, so the excess is what handing work to the other
     * threads and collecting it costs (an empty parallel-for may be finished by the caller alone).
     */
    @Benchmark
    public void parallelForBusyChunks(Cpu cpu) {
        cpu.backend.parallel().forRange(cpu.backend.threads(), 1, BUSY);
    }

    /** The hand-off alone: a parallel-for with nothing to do, one chunk per thread. */
    @Benchmark
    public void emptyParallelFor(Cpu cpu) {
        cpu.backend.parallel().forRange(cpu.backend.threads(), 1, NOTHING);
    }
}
