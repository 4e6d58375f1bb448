package dev.qwen2j.jmh;

import dev.qwen2j.quant.Int8Activations;
import dev.qwen2j.quant.Int8Matrix;
import dev.qwen2j.tensor.Backend;
import dev.qwen2j.tensor.CpuBackend;
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
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The int8 kernels on the shapes of {@link KernelBenchmark} (Qwen2.5-0.5B), for each layout and decode choice
 * ({@code activations}: {@code tiled}, the CPU's default layout at 256 and 512 bits, which multiplies the F32 input;
 * or row-major with int8 × F32, or int8 × int8 with the input quantized once per call) and scale granularity
 * ({@code groupSize}: 32, or 0 = one scale per row). {@link Int8Report} runs these beside the bf16 kernels and the
 * read bandwidth of {@link KernelBenchmark}, all in one run, and prints each as a share of that bandwidth and against
 * bf16. Decode weights rotate through more copies than the L3 holds, as in a real decode step.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class Int8KernelBenchmark {

    /** Copies of the MLP-sized matrix: 64 × 4.4 MB, beyond a 32 MB L3 as the bf16 copies are. */
    public static final int MLP_COPIES = 64;

    @State(Scope.Benchmark)
    public static class Choice {
        @Param({"tiled", "f32", "int8"})
        public String activations;
        @Param({"32", "0"})
        public int groupSize;
        public CpuBackend backend;

        @Setup(Level.Trial)
        public void setUp() {
            // read when a linear map is built; a tiled map ignores it
            System.setProperty(Int8Activations.PROPERTY, tiled() ? "f32" : activations);
            backend = CpuBackend.create(0);
        }

        boolean tiled() {
            return activations.equals("tiled");
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            backend.close();
        }
    }

    /** Random int8 weights (all 255 values but -128) and positive scales of a real model's size. */
    public abstract static class Linear extends KernelBenchmark.Linear {

        void prepare(Choice choice, int copies, int[] partRows, int tokens) {
            arena = Arena.ofShared();
            SplittableRandom random = new SplittableRandom(42);
            int cols = KernelBenchmark.HIDDEN;
            int group = choice.groupSize == 0 ? cols : choice.groupSize;
            weights = new Backend.LinearWeights[copies];
            int out = 0;
            for (int rows : partRows) {
                out += rows;
            }
            for (int c = 0; c < copies; c++) {
                List<Int8Matrix> parts = new ArrayList<>();
                for (int rows : partRows) {
                    MemorySegment data = arena.allocate((long) rows * cols, 64);
                    for (long i = 0; i < data.byteSize(); i++) {
                        data.set(ValueLayout.JAVA_BYTE, i, (byte) (random.nextInt(255) - 127));
                    }
                    float[] scales = new float[rows * (cols / group)];
                    for (int i = 0; i < scales.length; i++) {
                        scales[i] = (float) random.nextDouble(1e-4, 1e-2);
                    }
                    Int8Matrix matrix = new Int8Matrix("w" + c, data, scales, rows, cols, group);
                    parts.add(choice.tiled() ? matrix.toTiled() : matrix);
                }
                weights[c] = choice.backend.packedLinear(parts, null);
            }
            activations(random, tokens, out);
        }
    }

    @State(Scope.Benchmark)
    public static class Mlp extends Linear {
        @Setup(Level.Trial)
        public void setUp(Choice choice) {
            prepare(choice, MLP_COPIES, new int[]{KernelBenchmark.INTERMEDIATE}, 1);
        }
    }

    @State(Scope.Benchmark)
    public static class Vocab extends Linear {
        @Setup(Level.Trial)
        public void setUp(Choice choice) {
            prepare(choice, 1, new int[]{KernelBenchmark.VOCAB}, 1);
        }
    }

    @State(Scope.Benchmark)
    public static class Qkv extends Linear {
        @Setup(Level.Trial)
        public void setUp(Choice choice) {
            int h = KernelBenchmark.HIDDEN;
            prepare(choice, KernelBenchmark.LAYERS, new int[]{h, KernelBenchmark.KV_WIDTH, KernelBenchmark.KV_WIDTH}, 1);
        }
    }

    @State(Scope.Benchmark)
    public static class Prefill extends Linear {
        @Setup(Level.Trial)
        public void setUp(Choice choice) {
            prepare(choice, 1, new int[]{KernelBenchmark.INTERMEDIATE}, KernelBenchmark.PREFILL_TOKENS);
        }
    }

    /** A decode step of {@link KernelBenchmark#BATCH} sequences: gate-sized weights from DRAM, as in a batched step. */
    @State(Scope.Benchmark)
    public static class Batch extends Linear {
        @Setup(Level.Trial)
        public void setUp(Choice choice) {
            prepare(choice, MLP_COPIES, new int[]{KernelBenchmark.INTERMEDIATE}, KernelBenchmark.BATCH);
        }
    }

    /** gate- or up-sized int8 matvec, 4864 × 896. */
    @Benchmark
    public float[] matvecInt8Mlp(Choice choice, Mlp mlp) {
        choice.backend.linear(mlp.nextWeights(), mlp.x, mlp.y, 1);
        return mlp.y;
    }

    /** lm_head-sized int8 matvec, 151936 × 896. */
    @Benchmark
    public float[] matvecInt8Vocab(Choice choice, Vocab vocab) {
        choice.backend.linear(vocab.nextWeights(), vocab.x, vocab.y, 1);
        return vocab.y;
    }

    /** q, k and v of one layer in one call: with int8 × int8 the input is quantized once for all three. */
    @Benchmark
    public float[] matvecInt8QkvFused(Choice choice, Qkv qkv) {
        choice.backend.linear(qkv.nextWeights(), qkv.x, qkv.y, 1);
        return qkv.y;
    }

    /** One step of {@link KernelBenchmark#BATCH} sequences through an int8 4864 × 896 matrix, batch invariant as batches run. */
    @Benchmark
    public float[] matmulInt8Batch8(Choice choice, Batch batch) {
        choice.backend.linearBatchInvariant(batch.nextWeights(), batch.x, batch.y, KernelBenchmark.BATCH);
        return batch.y;
    }

    /**
     * Prefill: 128 F32 tokens through an int8 4864 × 896 matrix: row-major dequantized by blocks into the F32
     * micro-kernel, tiled through its own outer-product kernel.
     */
    @Benchmark
    public float[] matmulInt8Prefill128(Choice choice, Prefill prefill) {
        choice.backend.linear(prefill.nextWeights(), prefill.x, prefill.y, KernelBenchmark.PREFILL_TOKENS);
        return prefill.y;
    }
}
