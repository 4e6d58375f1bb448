package dev.qwen2j.tensor;

import dev.qwen2j.core.safetensors.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The CPU {@link Backend}: Vector API kernels (or scalar ones when the module is missing) on one persistent
 * worker pool. Linear maps and attention are split across the workers; the small element-wise ops run on
 * the calling thread, where a hand-off would cost more than the work.
 */
public final class CpuBackend implements Backend {

    /** Rows per chunk boundary: a multiple of the 4-row kernel, and 16 floats = one cache line of y. */
    private static final int ROW_ALIGN = 16;
    /** Attention below this many multiply-adds runs on the calling thread. */
    private static final long PARALLEL_ATTENTION_WORK = 1 << 16;

    private final Kernels kernels;
    private final Parallel parallel;

    private CpuBackend(Kernels kernels, int threads) {
        this.kernels = kernels;
        this.parallel = new Parallel(threads);
    }

    /**
     * A backend on {@code threads} threads ({@code <= 0}: the physical core count) with the best kernels: the Vector
     * API at the width {@code -Dqwen2j.vector.bits} forces or else the platform's preferred width, or scalar
     * kernels (with one warning) when {@code jdk.incubator.vector} is missing.
     */
    public static CpuBackend create(int threads) {
        return create(threads, VectorBits.DEFAULT);
    }

    /**
     * A backend whose Vector API kernels run at {@code vectorBits} (128, 256 or 512; {@link VectorBits#DEFAULT}
     * as {@link #create(int)}). Any width runs on any CPU, a width wider than the hardware's only slower.
     *
     * @throws IllegalArgumentException for another width
     * @throws IllegalStateException    for a forced width when the Vector API is missing
     */
    public static CpuBackend create(int threads, int vectorBits) {
        return new CpuBackend(KernelChoice.forBits(vectorBits), threads > 0 ? threads : physicalCores());
    }

    /** The width {@link #create(int)} picks, in bits (0: scalar kernels, the Vector API missing). */
    public static int defaultVectorBits() {
        return KernelChoice.forBits(VectorBits.DEFAULT).vectorBits();
    }

    /** The scalar kernels regardless of the Vector API: the reference, for tests and comparisons. */
    public static CpuBackend scalar(int threads) {
        return new CpuBackend(new ScalarKernels(), threads > 0 ? threads : physicalCores());
    }

    Kernels kernels() {
        return kernels;
    }

    /** The worker pool, for benchmarks of the hand-off. */
    public Parallel parallel() {
        return parallel;
    }

    /**
     * Physical cores (hyper-threads share one core's vector units, so they add nothing to these kernels):
     * distinct (package, core) pairs in sysfs, else {@link Runtime#availableProcessors()}.
     */
    public static int physicalCores() {
        int available = Runtime.getRuntime().availableProcessors();
        Path cpus = Path.of("/sys/devices/system/cpu");
        Set<String> cores = new HashSet<>();
        try (Stream<Path> entries = Files.list(cpus)) {
            for (Path cpu : (Iterable<Path>) entries::iterator) {
                Path topology = cpu.resolve("topology");
                if (cpu.getFileName().toString().matches("cpu\\d+") && Files.isDirectory(topology)) {
                    cores.add(Files.readString(topology.resolve("physical_package_id")).trim() + "/"
                            + Files.readString(topology.resolve("core_id")).trim());
                }
            }
        } catch (Exception e) {
            return available;
        }
        return cores.isEmpty() ? available : Math.max(1, Math.min(available, cores.size()));
    }

    @Override
    public String name() {
        return "cpu-" + kernels.name();
    }

    /**
     * The width the Vector API kernels run at, in bits (0: scalar kernels). Kernels of other weight formats built
     * on this backend (int8 in module quant) follow it.
     */
    public int vectorBits() {
        return kernels.vectorBits();
    }

    @Override
    public int threads() {
        return parallel.threads();
    }

    // ---------------------------------------------------------------- linear maps

    /** Parts stacked by rows; part p fills outputs {@code [starts[p], starts[p + 1])}; bias null or all outputs. */
    record CpuLinear(Tensor[] parts, int[] starts, float[] bias, int inFeatures, int outFeatures)
            implements LinearWeights {
    }

    @Override
    public LinearWeights linear(List<Tensor> parts, List<Tensor> biases) {
        Objects.requireNonNull(parts, "parts");
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("a linear map needs at least one weight matrix");
        }
        if (biases != null && biases.size() != parts.size()) {
            throw new IllegalArgumentException("got " + biases.size() + " biases for " + parts.size() + " weight matrices");
        }
        int in = parts.getFirst().cols();
        int[] starts = new int[parts.size() + 1];
        for (int p = 0; p < parts.size(); p++) {
            Tensor part = parts.get(p);
            if (part.cols() != in) {
                throw new IllegalArgumentException(part.name() + ": " + part.cols() + " columns, but "
                        + parts.getFirst().name() + " has " + in);
            }
            checkFloatType(part);
            starts[p + 1] = Math.addExact(starts[p], part.rows());
        }
        List<String> names = parts.stream().map(Tensor::name).toList();
        float[] bias = Backend.stackBiases(biases, names, starts);
        return new CpuLinear(parts.toArray(Tensor[]::new), starts, bias, in, starts[parts.size()]);
    }

    /** Parts stacked by rows as in {@link CpuLinear}; {@code decode} is the parts' shared format at this width. */
    record PackedLinear(PackedMatrix[] parts, int[] starts, float[] bias, int inFeatures, int outFeatures,
                        PackedKernels<?> decode, int rowAlign) implements LinearWeights {
    }

    @Override
    public LinearWeights packedLinear(List<? extends PackedMatrix> parts, List<Tensor> biases) {
        Objects.requireNonNull(parts, "parts");
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("a linear map needs at least one weight matrix");
        }
        if (biases != null && biases.size() != parts.size()) {
            throw new IllegalArgumentException("got " + biases.size() + " biases for " + parts.size() + " weight matrices");
        }
        PackedMatrix first = parts.getFirst();
        PackedKernels<?> decode = first.decodeKernels(vectorBits());
        int[] starts = new int[parts.size() + 1];
        int align = ROW_ALIGN;
        for (int p = 0; p < parts.size(); p++) {
            PackedMatrix part = parts.get(p);
            align = Math.max(align, part.rowAlignment()); // powers of two: the largest is their multiple
            if (part.cols() != first.cols()) {
                throw new IllegalArgumentException(part.name() + ": " + part.cols() + " columns, but "
                        + first.name() + " has " + first.cols());
            }
            if (part.decodeKernels(vectorBits()) != decode) {
                throw new IllegalArgumentException(part.name() + ": another format than " + first.name()
                        + "; the parts of one linear map share one format");
            }
            starts[p + 1] = Math.addExact(starts[p], part.rows());
        }
        float[] bias = Backend.stackBiases(biases, parts.stream().map(PackedMatrix::name).toList(), starts);
        return new PackedLinear(parts.toArray(PackedMatrix[]::new), starts, bias, first.cols(), starts[parts.size()], decode,
                align);
    }

    public void linear(LinearWeights weights, float[] x, float[] y, int tokens) {
        linear(weights, x, y, tokens, false);
    }

    public void linearBatchInvariant(LinearWeights weights, float[] x, float[] y, int tokens) {
        linear(weights, x, y, tokens, true);
    }

    /** {@code blocked}: one token too goes through the block kernels, which sum every token in one order. */
    private void linear(LinearWeights weights, float[] x, float[] y, int tokens, boolean blocked) {
        if (weights instanceof PackedLinear packed) {
            checkLength("x", x, (long) tokens * packed.inFeatures());
            checkLength("y", y, (long) tokens * packed.outFeatures());
            packedLinear(packed, packed.decode(), x, y, tokens, blocked);
            return;
        }
        if (!(weights instanceof CpuLinear linear)) {
            throw new IllegalArgumentException("weights were prepared by another backend: " + weights);
        }
        int in = linear.inFeatures();
        int out = linear.outFeatures();
        checkLength("x", x, (long) tokens * in);
        checkLength("y", y, (long) tokens * out);
        parallel.forRange(out, ROW_ALIGN, (from, to) -> {
            Tensor[] parts = linear.parts();
            int[] starts = linear.starts();
            for (int p = 0; p < parts.length; p++) {
                int lo = Math.max(from, starts[p]);
                int hi = Math.min(to, starts[p + 1]);
                if (lo < hi && blocked) {
                    kernels.matmulBlocked(parts[p], lo - starts[p], hi - starts[p], x, tokens, y, out, starts[p],
                            linear.bias());
                } else if (lo < hi) {
                    kernels.matmul(parts[p], lo - starts[p], hi - starts[p], x, tokens, y, out, starts[p],
                            linear.bias());
                }
            }
        });
    }

    /**
     * One token: the input prepared once on this thread, then every part in one pass and one hand-off. A block of
     * tokens: blocks of rows dequantized once into the F32 register-blocked micro-kernel.
     */
    private <I> void packedLinear(PackedLinear linear, PackedKernels<I> decode, float[] x, float[] y, int tokens,
                                  boolean blocked) {
        boolean oneToken = tokens == 1 && !blocked;
        I input = oneToken ? decode.prepare(x, linear.inFeatures()) : null;
        int out = linear.outFeatures();
        parallel.forRange(out, linear.rowAlign(), (from, to) -> {
            PackedMatrix[] parts = linear.parts();
            int[] starts = linear.starts();
            for (int p = 0; p < parts.length; p++) {
                int lo = Math.max(from, starts[p]);
                int hi = Math.min(to, starts[p + 1]);
                if (lo < hi && oneToken) {
                    decode.matvec(parts[p], lo - starts[p], hi - starts[p], input, y, starts[p], linear.bias());
                } else if (lo < hi && !decode.matmul(parts[p], lo - starts[p], hi - starts[p], x, tokens, y, out,
                        starts[p], linear.bias())) {
                    kernels.matmulPacked(parts[p], decode, lo - starts[p], hi - starts[p], x, tokens, y, out, starts[p],
                            linear.bias());
                }
            }
        });
    }

    // ---------------------------------------------------------------- element-wise

    public void rmsNorm(float[] x, Tensor weight, float eps, float[] out, int tokens) {
        int dim = weight.cols();
        checkLength("x", x, (long) tokens * dim);
        checkLength("out", out, (long) tokens * dim);
        checkFloatType(weight);
        for (int t = 0; t < tokens; t++) {
            kernels.rmsNorm(x, t * dim, weight, eps, out);
        }
    }

    public void rope(float[] x, int offset, int stride, int heads, int tokens, int startPosition, RopeTable rope) {
        int headDim = rope.headDim();
        int half = headDim / 2;
        float[] invFreq = rope.invFreq();
        float scaling = rope.attentionScaling();
        if (tokens > 0) {
            checkLength("x", x, offset + (long) (tokens - 1) * stride + (long) heads * headDim);
        }
        for (int t = 0; t < tokens; t++) {
            float position = startPosition + t;
            int token = offset + t * stride;
            for (int i = 0; i < half; i++) {
                float angle = position * invFreq[i]; // F32, as transformers computes it
                float cos = (float) Math.cos(angle) * scaling;
                float sin = (float) Math.sin(angle) * scaling;
                for (int h = 0; h < heads; h++) {
                    int a = token + h * headDim + i;
                    int b = a + half;
                    float x0 = x[a];
                    float x1 = x[b];
                    x[a] = x0 * cos - x1 * sin;
                    x[b] = x1 * cos + x0 * sin;
                }
            }
        }
    }

    public void swiGlu(float[] gateUp, float[] out, int n, int tokens) {
        checkLength("gateUp", gateUp, 2L * n * tokens);
        checkLength("out", out, (long) n * tokens);
        for (int t = 0; t < tokens; t++) {
            kernels.swiGlu(gateUp, 2 * n * t, n, out, n * t);
        }
    }

    public void add(float[] x, float[] delta, int n) {
        checkLength("x", x, n);
        checkLength("delta", delta, n);
        kernels.add(x, delta, 0, n);
    }

    public void embed(Tensor table, int[] tokenIds, int tokens, float[] out) {
        int dim = table.cols();
        checkLength("out", out, (long) tokens * dim);
        for (int t = 0; t < tokens; t++) {
            int id = tokenIds[t];
            if (id < 0 || id >= table.rows()) {
                throw new IllegalArgumentException(table.name() + ": token id " + id + " outside [0, " + table.rows() + ")");
            }
            long base = (long) id * dim;
            for (int i = 0; i < dim; i++) {
                out[t * dim + i] = Numbers.read(table.data(), table.dtype(), base + i);
            }
        }
    }

    // ---------------------------------------------------------------- attention

    public void storeKv(KvCacheLayer cache, float[] src, int kOffset, int vOffset, int stride, int tokens, int startPosition) {
        cache.checkPositions(startPosition, tokens);
        int headDim = cache.headDim();
        int width = cache.kvHeads() * headDim;
        if (tokens > 0) {
            checkLength("src", src, Math.max(kOffset, vOffset) + (long) (tokens - 1) * stride + width);
        }
        for (int t = 0; t < tokens; t++) {
            int position = startPosition + t;
            int page = cache.pageOf(position);
            int slot = position & (KvCacheLayer.PAGE - 1);
            for (int h = 0; h < cache.kvHeads(); h++) {
                KvStore.key(cache, page, h, slot, src, kOffset + t * stride + h * headDim);
                KvStore.value(cache, page, h, slot, src, vOffset + t * stride + h * headDim);
            }
        }
    }

    /** Query tokens per prefill work item: with 7 query heads a KV head, 112 rows share each page of keys. */
    private static final int PREFILL_TOKENS = 16;
    /** Fewest pages a decode work item scans: below this the merge costs more than the split gains. */
    private static final int MIN_SPLIT_PAGES = 4;

    public void attention(float[] q, int qOffset, int qStride, int heads, KvCacheLayer cache,
                          int tokens, int startPosition, int window, float[] out) {
        attention(q, qOffset, qStride, heads, cache, tokens, startPosition, window, out, 0);
    }

    /** {@link Backend#attention} on host arrays. */
    public void attention(float[] q, int qOffset, int qStride, int heads, KvCacheLayer cache,
                          int tokens, int startPosition, int window, float[] out, int outOffset) {
        cache.checkPositions(startPosition, tokens);
        int kvHeads = cache.kvHeads();
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(heads + " query heads cannot share " + kvHeads + " KV heads evenly");
        }
        int headDim = cache.headDim();
        if (tokens > 0) {
            checkLength("q", q, qOffset + (long) (tokens - 1) * qStride + (long) heads * headDim);
            checkLength("out", out, outOffset + (long) tokens * heads * headDim);
        }
        if (tokens == 1) {
            decodeAttention(q, qOffset, heads, cache, startPosition, window, out, outOffset);
        } else if (tokens > 1) {
            prefillAttention(q, qOffset, qStride, heads, cache, tokens, startPosition, window, out, outOffset);
        }
    }

    /**
     * One token (flash-decoding): each KV head's positions are split into runs of pages; a work item scores the
     * whole group of query heads that share the KV head against its run, and the partial softmax results of the
     * runs are merged at the end. So both cores work even with 2 KV heads, and each key is read once per token.
     */
    private void decodeAttention(float[] q, int qOffset, int heads, KvCacheLayer cache, int position, int window,
                                 float[] out, int outOffset) {
        int kvHeads = cache.kvHeads();
        int group = heads / kvHeads;
        int headDim = cache.headDim();
        int first = window > 0 ? Math.max(0, position - window + 1) : 0;
        int firstPage = first / KvCacheLayer.PAGE;
        int pages = position / KvCacheLayer.PAGE - firstPage + 1;
        int splits = Math.max(1, Math.min(pages / MIN_SPLIT_PAGES, ceilDiv(2 * parallel.threads(), kvHeads)));
        int pagesPerSplit = ceilDiv(pages, splits);
        splits = ceilDiv(pages, pagesPerSplit);
        int stateSize = group * (headDim + 2); // m, l and acc of each query head
        float[] partials = PartialResults.get(kvHeads * splits * stateSize);
        int items = kvHeads * splits;
        int splitCount = splits;
        Parallel.Body body = (from, to) -> {
            AttentionScratch scratch = AttentionScratch.get(group, headDim);
            for (int item = from; item < to; item++) {
                int kvHead = item / splitCount;
                int split = item % splitCount;
                for (int g = 0; g < group; g++) {
                    scratch.qRows[g] = qOffset + (kvHead * group + g) * headDim;
                    scratch.lo[g] = first;
                    scratch.hi[g] = position;
                }
                scratch.reset(group, headDim);
                int pageFrom = firstPage + split * pagesPerSplit;
                int pageTo = Math.min(firstPage + pages, pageFrom + pagesPerSplit);
                attendPages(q, group, cache, kvHead, pageFrom, pageTo, headDim, scratch);
                int base = item * stateSize;
                System.arraycopy(scratch.m, 0, partials, base, group);
                System.arraycopy(scratch.l, 0, partials, base + group, group);
                System.arraycopy(scratch.acc, 0, partials, base + 2 * group, group * headDim);
            }
        };
        run(items, (long) pages * KvCacheLayer.PAGE * heads * headDim, body);
        for (int kvHead = 0; kvHead < kvHeads; kvHead++) {
            for (int g = 0; g < group; g++) {
                float max = Float.NEGATIVE_INFINITY;
                for (int split = 0; split < splits; split++) {
                    max = Math.max(max, partials[(kvHead * splits + split) * stateSize + g]);
                }
                float sum = 0f;
                int o = outOffset + (kvHead * group + g) * headDim;
                java.util.Arrays.fill(out, o, o + headDim, 0f);
                for (int split = 0; split < splits; split++) {
                    int base = (kvHead * splits + split) * stateSize;
                    float m = partials[base + g];
                    if (m == Float.NEGATIVE_INFINITY) {
                        continue; // a run this head saw nothing of
                    }
                    float weight = (float) Math.exp(m - max);
                    sum += weight * partials[base + group + g];
                    int acc = base + 2 * group + g * headDim;
                    for (int d = 0; d < headDim; d++) {
                        out[o + d] += weight * partials[acc + d];
                    }
                }
                float inverse = 1f / sum;
                for (int d = 0; d < headDim; d++) {
                    out[o + d] *= inverse;
                }
            }
        }
    }

    /**
     * A block of tokens (FlashAttention's tiling): a work item is one KV head and {@link #PREFILL_TOKENS} query
     * tokens, i.e. every query head of the group for each of them; it streams the pages those tokens can see
     * (causal and sliding-window pages beyond every row's reach are skipped) with an online softmax per row.
     */
    private void prefillAttention(float[] q, int qOffset, int qStride, int heads, KvCacheLayer cache, int tokens,
                                  int startPosition, int window, float[] out, int outOffset) {
        int kvHeads = cache.kvHeads();
        int group = heads / kvHeads;
        int headDim = cache.headDim();
        int tokenBlocks = ceilDiv(tokens, PREFILL_TOKENS);
        Parallel.Body body = (from, to) -> {
            AttentionScratch scratch = AttentionScratch.get(PREFILL_TOKENS * group, headDim);
            for (int item = from; item < to; item++) {
                int kvHead = item / tokenBlocks;
                int t0 = (item % tokenBlocks) * PREFILL_TOKENS;
                int blockTokens = Math.min(PREFILL_TOKENS, tokens - t0);
                int rows = blockTokens * group;
                int lowest = Integer.MAX_VALUE;
                for (int t = 0; t < blockTokens; t++) {
                    int position = startPosition + t0 + t;
                    int first = window > 0 ? Math.max(0, position - window + 1) : 0;
                    lowest = Math.min(lowest, first);
                    for (int g = 0; g < group; g++) {
                        int r = t * group + g;
                        scratch.qRows[r] = qOffset + (t0 + t) * qStride + (kvHead * group + g) * headDim;
                        scratch.lo[r] = first;
                        scratch.hi[r] = position;
                    }
                }
                scratch.reset(rows, headDim);
                int last = startPosition + t0 + blockTokens - 1;
                attendPages(q, rows, cache, kvHead, lowest / KvCacheLayer.PAGE, last / KvCacheLayer.PAGE + 1, headDim, scratch);
                for (int t = 0; t < blockTokens; t++) {
                    for (int g = 0; g < group; g++) {
                        int r = t * group + g;
                        float inverse = 1f / scratch.l[r];
                        int o = outOffset + ((t0 + t) * heads + kvHead * group + g) * headDim;
                        for (int d = 0; d < headDim; d++) {
                            out[o + d] = scratch.acc[r * headDim + d] * inverse;
                        }
                    }
                }
            }
        };
        run(kvHeads * tokenBlocks, (long) heads * tokens * (startPosition + tokens) * headDim, body);
    }

    /** Logical pages [from, to) in runs that start at multiples of {@link Kernels#CHUNK_PAGES}. */
    private void attendPages(float[] q, int rows, KvCacheLayer cache, int kvHead, int from, int to, int headDim,
                             AttentionScratch scratch) {
        for (int p = from; p < to; ) {
            int end = Math.min(to, (p / Kernels.CHUNK_PAGES + 1) * Kernels.CHUNK_PAGES);
            kernels.attendPages(q, scratch.qRows, rows, cache, kvHead, p, end - p, scratch.lo, scratch.hi,
                    scale(headDim), scratch.m, scratch.l, scratch.acc, scratch.scores);
            p = end;
        }
    }

    private void run(int items, long work, Parallel.Body body) {
        if (work < PARALLEL_ATTENTION_WORK || items == 1) {
            body.run(0, items);
        } else {
            parallel.forRange(items, 1, body);
        }
    }

    private static float scale(int headDim) {
        return (float) (1.0 / Math.sqrt(headDim));
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** One worker's attention state and scratch, grown to the largest block it has seen, reused ever after. */
    private static final class AttentionScratch {
        private static final ThreadLocal<AttentionScratch> MINE = ThreadLocal.withInitial(AttentionScratch::new);

        int[] qRows = new int[0];
        int[] lo = new int[0];
        int[] hi = new int[0];
        float[] m = new float[0];
        float[] l = new float[0];
        float[] acc = new float[0];
        float[] scores = new float[0];

        static AttentionScratch get(int rows, int headDim) {
            AttentionScratch s = MINE.get();
            int padded = (rows + 8) / 8 * 8 + 8; // whole 8-row blocks and a dummy row past them
            if (s.qRows.length < padded || s.acc.length < padded * headDim) {
                s.qRows = new int[padded];
                s.lo = new int[padded];
                s.hi = new int[padded];
                s.m = new float[padded];
                s.l = new float[padded];
                s.acc = new float[padded * headDim];
                s.scores = new float[padded * Kernels.CHUNK_SLOTS];
            }
            return s;
        }

        void reset(int rows, int headDim) {
            java.util.Arrays.fill(m, 0, rows, Float.NEGATIVE_INFINITY);
            java.util.Arrays.fill(l, 0, rows, 0f);
            java.util.Arrays.fill(acc, 0, rows * headDim, 0f);
        }
    }

    /** The calling thread's buffer for the partial results of a split decode, grown as contexts grow. */
    private static final class PartialResults {
        private static final ThreadLocal<float[][]> MINE = ThreadLocal.withInitial(() -> new float[1][0]);

        static float[] get(int floats) {
            float[][] holder = MINE.get();
            if (holder[0].length < floats) {
                holder[0] = new float[Math.max(floats, 2 * holder[0].length)];
            }
            return holder[0];
        }
    }

    // ---------------------------------------------------------------- the Backend contract on host arrays

    /** A CPU buffer: a plain heap array, which the kernels take as it is. */
    public record HostBuffer(float[] array) implements Buffer {
        public HostBuffer {
            Objects.requireNonNull(array, "array");
        }

        @Override
        public int length() {
            return array.length;
        }
    }

    /** Wraps a host array as a buffer of this backend (no copy). */
    public static HostBuffer wrap(float[] array) {
        return new HostBuffer(array);
    }

    private static float[] host(Buffer buffer) {
        if (buffer instanceof HostBuffer h) {
            return h.array;
        }
        throw new IllegalArgumentException("a buffer of another backend reached the CPU backend: " + buffer);
    }

    @Override
    public HostBuffer allocate(int floats) {
        if (floats < 0) {
            throw new IllegalArgumentException("a buffer of " + floats + " floats");
        }
        return new HostBuffer(new float[floats]);
    }

    @Override
    public void write(float[] src, int srcOffset, Buffer dst, int dstOffset, int n) {
        System.arraycopy(src, srcOffset, host(dst), dstOffset, n);
    }

    @Override
    public void read(Buffer src, int srcOffset, float[] dst, int dstOffset, int n) {
        System.arraycopy(host(src), srcOffset, dst, dstOffset, n);
    }

    @Override
    public void copy(Buffer src, int srcOffset, Buffer dst, int dstOffset, int n) {
        System.arraycopy(host(src), srcOffset, host(dst), dstOffset, n);
    }

    @Override
    public KvCacheLayer kvPool(Arena arena, DType dtype, int kvHeads, int headDim, int pages, PageTable table) {
        return KvCacheLayer.ofPool(arena, dtype, kvHeads, headDim, pages, table);
    }

    @Override
    public void copyKvPage(KvCacheLayer pool, int from, int to) {
        pool.copyPage(from, to, (segment, fromByte, toByte, bytes) -> MemorySegment.copy(segment, fromByte, segment, toByte, bytes));
    }

    @Override
    public void linear(LinearWeights weights, Buffer x, Buffer y, int tokens) {
        linear(weights, host(x), host(y), tokens, false);
    }

    @Override
    public void linearBatchInvariant(LinearWeights weights, Buffer x, Buffer y, int tokens) {
        linear(weights, host(x), host(y), tokens, true);
    }

    @Override
    public void rmsNorm(Buffer x, Tensor weight, float eps, Buffer out, int tokens) {
        rmsNorm(host(x), weight, eps, host(out), tokens);
    }

    @Override
    public void rope(Buffer x, int offset, int stride, int heads, int tokens, int startPosition, RopeTable rope) {
        rope(host(x), offset, stride, heads, tokens, startPosition, rope);
    }

    @Override
    public void swiGlu(Buffer gateUp, Buffer out, int n, int tokens) {
        swiGlu(host(gateUp), host(out), n, tokens);
    }

    @Override
    public void add(Buffer x, Buffer delta, int n) {
        add(host(x), host(delta), n);
    }

    @Override
    public void embed(Tensor table, int[] tokenIds, int tokens, Buffer out) {
        embed(table, tokenIds, tokens, host(out));
    }

    @Override
    public void storeKv(KvCacheLayer cache, Buffer src, int kOffset, int vOffset, int stride, int tokens, int startPosition) {
        storeKv(cache, host(src), kOffset, vOffset, stride, tokens, startPosition);
    }

    @Override
    public void attention(Buffer q, int qOffset, int qStride, int heads, KvCacheLayer cache, int tokens,
                          int startPosition, int window, Buffer out, int outOffset) {
        attention(host(q), qOffset, qStride, heads, cache, tokens, startPosition, window, host(out), outOffset);
    }

    // ---------------------------------------------------------------- checks

    private static void checkFloatType(Tensor tensor) {
        DType dtype = tensor.dtype();
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException(tensor.name() + ": the CPU backend computes with F32, F16 or BF16, not " + dtype);
        }
    }

    private static void checkLength(String name, float[] array, long needed) {
        if (array.length < needed) {
            throw new IllegalArgumentException(name + " holds " + array.length + " floats, needs " + needed);
        }
    }

    @Override
    public void close() {
        parallel.close();
    }
}
