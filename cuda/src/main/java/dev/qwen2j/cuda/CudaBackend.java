package dev.qwen2j.cuda;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.quant.Int8Matrix;
import dev.qwen2j.tensor.Backend;
import dev.qwen2j.tensor.KvCacheLayer;
import dev.qwen2j.tensor.Numbers;
import dev.qwen2j.tensor.PackedMatrix;
import dev.qwen2j.tensor.PageTable;
import dev.qwen2j.tensor.RopeTable;
import dev.qwen2j.tensor.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The CUDA {@link Backend}: weights uploaded once (bf16, or int8 with their scales), activations and the KV cache
 * in device memory, every op a kernel on the default stream. A forward pass copies the token ids in and the logits
 * out, nothing else. Float weights of other types are converted to bf16 on upload; prefill's linear maps go through
 * cuBLAS ({@code cublasGemmEx}, bf16 in, F32 accumulate) when it is found, else through the decode kernels.
 *
 * <p>Not yet run on hardware: see docs/cuda.md for what the device tests check.
 */
public final class CudaBackend implements Backend {

    private static final Logger LOG = LoggerFactory.getLogger(CudaBackend.class);

    private final CudaContext cuda;
    private final int index;
    private final int hostThreads;
    private final Map<Tensor, Long> uploaded = new ConcurrentHashMap<>(); // norm vectors and matrices, by tensor
    private final Map<RopeTable, RopeAngles> ropeTables = new java.util.HashMap<>(); // guarded by itself
    private final ThreadLocal<Staging> staging = ThreadLocal.withInitial(Staging::new);

    private CudaBackend(CudaContext cuda, int index) {
        this.cuda = cuda;
        this.index = index;
        this.hostThreads = Runtime.getRuntime().availableProcessors();
    }

    /** Device {@code index}, or a {@link CudaUnavailableException} naming what is missing. */
    public static CudaBackend open(int index) {
        CudaBackend backend = new CudaBackend(CudaContext.open(index), index);
        long[] memory = backend.cuda.memory();
        LOG.info("cuda:{}: {}, {} MiB free of {} MiB", index, backend.cuda.deviceName(), memory[0] >> 20, memory[1] >> 20);
        return backend;
    }

    /** Free device memory in bytes, for the memory plan. */
    public long freeBytes() {
        return cuda.memory()[0];
    }

    @Override
    public String name() {
        return "cuda:" + index;
    }

    @Override
    public int threads() {
        return hostThreads; // what quantizing at load runs on; the kernels use the device
    }

    // ---------------------------------------------------------------- buffers

    /** Device F32 memory. */
    record DeviceBuffer(long pointer, int length, CudaContext owner) implements Buffer {
        long at(int floatOffset) {
            return pointer + 4L * floatOffset;
        }

        @Override
        public void close() {
            owner.free(pointer);
        }
    }

    private static DeviceBuffer device(Buffer buffer) {
        if (buffer instanceof DeviceBuffer d) {
            return d;
        }
        throw new IllegalArgumentException("a buffer of another backend reached the CUDA backend: " + buffer);
    }

    @Override
    public Buffer allocate(int floats) {
        return new DeviceBuffer(cuda.allocate(4L * floats), floats, cuda);
    }

    @Override
    public void write(float[] src, int srcOffset, Buffer dst, int dstOffset, int n) {
        DeviceBuffer d = device(dst);
        check(d, dstOffset, n);
        MemorySegment host = staging.get().floats(n);
        MemorySegment.copy(src, srcOffset, host, ValueLayout.JAVA_FLOAT, 0, n);
        cuda.upload(host, d.at(dstOffset), 4L * n);
    }

    @Override
    public void read(Buffer src, int srcOffset, float[] dst, int dstOffset, int n) {
        DeviceBuffer d = device(src);
        check(d, srcOffset, n);
        MemorySegment host = staging.get().floats(n);
        cuda.download(d.at(srcOffset), host, 4L * n);
        MemorySegment.copy(host, ValueLayout.JAVA_FLOAT, 0, dst, dstOffset, n);
    }

    @Override
    public void copy(Buffer src, int srcOffset, Buffer dst, int dstOffset, int n) {
        check(device(src), srcOffset, n);
        check(device(dst), dstOffset, n);
        cuda.copy(device(src).at(srcOffset), device(dst).at(dstOffset), 4L * n);
    }

    private static void check(DeviceBuffer b, int offset, long n) {
        if (offset < 0 || n < 0 || offset + n > b.length()) {
            throw new IllegalArgumentException("floats [" + offset + ", " + (offset + n) + ") outside a device buffer of "
                    + b.length());
        }
    }

    // ---------------------------------------------------------------- KV cache

    @Override
    public KvCacheLayer kvPool(Arena arena, DType dtype, int kvHeads, int headDim, int pages, PageTable table) {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.I8) {
            throw new IllegalArgumentException("KV cache holds F32, BF16 or I8, not " + dtype);
        }
        long bytes = (long) pages * kvHeads * headDim * KvCacheLayer.PAGE * dtype.byteSize();
        // The segments carry device addresses: only this backend's kernels touch them, and the arena frees them.
        MemorySegment keyScales = null;
        MemorySegment valueScales = null;
        if (dtype == DType.I8) {
            long scaleBytes = (long) pages * kvHeads * KvCacheLayer.PAGE * Float.BYTES;
            keyScales = deviceSegment(scaleBytes, arena);
            valueScales = deviceSegment(scaleBytes, arena);
        }
        return new KvCacheLayer(deviceSegment(bytes, arena), deviceSegment(bytes, arena), keyScales, valueScales, dtype,
                kvHeads, headDim, pages, table);
    }

    private MemorySegment deviceSegment(long bytes, Arena arena) {
        long pointer = cuda.allocate(bytes);
        return MemorySegment.ofAddress(pointer).reinterpret(bytes, arena, s -> cuda.free(pointer));
    }

    @Override
    public void copyKvPage(KvCacheLayer pool, int from, int to) {
        pool.copyPage(from, to, (segment, fromByte, toByte, bytes) ->
                cuda.copy(segment.address() + fromByte, segment.address() + toByte, bytes));
    }

    // ---------------------------------------------------------------- weights

    /** A linear map on the device: bf16 {@code [out][in]}, or int8 with F32 scales per row and group. */
    record DeviceLinear(long weights, long scales, int groupSize, long bias, int inFeatures, int outFeatures)
            implements LinearWeights {
        boolean int8() {
            return scales != 0;
        }
    }

    @Override
    public LinearWeights linear(List<Tensor> parts, List<Tensor> biases) {
        int in = parts.getFirst().cols();
        int out = 0;
        for (Tensor t : parts) {
            if (t.cols() != in) {
                throw new IllegalArgumentException(t.name() + ": " + t.cols() + " columns, the other parts " + in);
            }
            out += t.rows();
        }
        long weights;
        if (parts.size() == 1) {
            weights = matrix(parts.getFirst()); // shared with the embedding lookup when tied
        } else {
            weights = cuda.allocate(2L * out * in);
            long at = weights;
            for (Tensor t : parts) {
                uploadBf16(t, at);
                at += 2L * t.rows() * in;
            }
        }
        return new DeviceLinear(weights, 0, 0, bias(biases, parts.stream().map(Tensor::name).toList(), parts.stream().map(Tensor::rows).toList()), in, out);
    }

    @Override
    public LinearWeights packedLinear(List<? extends PackedMatrix> parts, List<Tensor> biases) {
        int in = parts.getFirst().cols();
        int out = 0;
        int group = -1;
        for (PackedMatrix m : parts) {
            if (!(m instanceof Int8Matrix q)) {
                throw new UnsupportedOperationException("the CUDA backend runs int8 weights, not " + m.name());
            }
            if (group >= 0 && q.groupSize() != group) {
                throw new IllegalArgumentException(m.name() + ": group size " + q.groupSize() + ", the other parts " + group);
            }
            if (q.tiled()) { // the device kernels read Hugging Face's row-major layout
                throw new IllegalArgumentException(m.name() + ": the CUDA backend takes row-major int8, not the CPU's tiled layout");
            }
            group = q.groupSize();
            out += m.rows();
        }
        return new LazyInt8(parts.stream().map(m -> (Int8Matrix) m).toList(), group,
                bias(biases, parts.stream().map(PackedMatrix::name).toList(),
                        parts.stream().map(PackedMatrix::rows).toList()), in, out);
    }

    /**
     * Int8 parts uploaded at first use: quantizing at load fills them after the map is prepared
     * ({@code QuantizeJobs} run once every layer is planned).
     */
    final class LazyInt8 implements LinearWeights {
        private final List<Int8Matrix> parts;
        private final int group;
        private final long bias;
        private final int in;
        private final int out;
        private volatile DeviceLinear uploadedMap;

        LazyInt8(List<Int8Matrix> parts, int group, long bias, int in, int out) {
            this.parts = parts;
            this.group = group;
            this.bias = bias;
            this.in = in;
            this.out = out;
        }

        @Override
        public int inFeatures() {
            return in;
        }

        @Override
        public int outFeatures() {
            return out;
        }

        synchronized DeviceLinear get() {
            if (uploadedMap == null) {
                long weights = cuda.allocate((long) out * in);
                long scales = cuda.allocate(4L * out * (in / group));
                long w = weights;
                long s = scales;
                try (Arena arena = Arena.ofConfined()) {
                    for (Int8Matrix m : parts) {
                        long bytes = (long) m.rows() * in;
                        cuda.upload(m.weights(), w, bytes);
                        MemorySegment host = arena.allocateFrom(ValueLayout.JAVA_FLOAT, m.scales());
                        cuda.upload(host, s, 4L * m.scales().length);
                        w += bytes;
                        s += 4L * m.scales().length;
                    }
                }
                uploadedMap = new DeviceLinear(weights, scales, group, bias, in, out);
            }
            return uploadedMap;
        }
    }

    private DeviceLinear deviceLinear(LinearWeights weights) {
        if (weights instanceof DeviceLinear d) {
            return d;
        }
        if (weights instanceof LazyInt8 lazy) {
            return lazy.get();
        }
        throw new IllegalArgumentException("weights were prepared by another backend: " + weights);
    }

    /** The biases of the parts, stacked into one device vector ({@link Backend#stackBiases}); 0 when none has one. */
    private long bias(List<Tensor> biases, List<String> names, List<Integer> rows) {
        int[] starts = new int[rows.size() + 1];
        for (int p = 0; p < rows.size(); p++) {
            starts[p + 1] = starts[p] + rows.get(p);
        }
        float[] stacked = Backend.stackBiases(biases, names, starts);
        return stacked == null ? 0 : uploadFloats(stacked);
    }

    /** A matrix as bf16 on the device, uploaded once per tensor. */
    private long matrix(Tensor t) {
        return uploaded.computeIfAbsent(t, k -> {
            long pointer = cuda.allocate(2L * k.rows() * k.cols());
            uploadBf16(k, pointer);
            return pointer;
        });
    }

    /** A vector (a norm's weight) as F32 on the device, uploaded once per tensor. */
    private long vector(Tensor t) {
        return uploaded.computeIfAbsent(t, k -> uploadFloats(k.toFloats()));
    }

    private long uploadFloats(float[] values) {
        long pointer = cuda.allocate(4L * values.length);
        try (Arena arena = Arena.ofConfined()) {
            cuda.upload(arena.allocateFrom(ValueLayout.JAVA_FLOAT, values), pointer, 4L * values.length);
        }
        return pointer;
    }

    /** Uploads {@code t} as bf16 rows: as it is when stored so, else rounded to nearest even a row at a time. */
    private void uploadBf16(Tensor t, long pointer) {
        if (t.dtype() == DType.BF16) {
            cuda.upload(t.data(), pointer, 2L * t.rows() * t.cols());
            return;
        }
        if (t.dtype() != DType.F32 && t.dtype() != DType.F16) {
            throw new IllegalArgumentException(t.name() + ": the CUDA backend computes with float weights, not " + t.dtype());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment row = arena.allocate(2L * t.cols(), 16);
            for (int r = 0; r < t.rows(); r++) {
                long base = (long) r * t.cols();
                for (int c = 0; c < t.cols(); c++) {
                    row.setAtIndex(ValueLayout.JAVA_SHORT, c, Numbers.floatToBf16(t.get(base + c)));
                }
                cuda.upload(row, pointer + 2L * base, 2L * t.cols());
            }
        }
    }

    // ---------------------------------------------------------------- ops

    @Override
    public void linear(LinearWeights weights, Buffer x, Buffer y, int tokens) {
        DeviceLinear w = deviceLinear(weights);
        if (tokens > 1 && !w.int8() && gemm.available()) {
            gemm.multiply(w, device(x), device(y), tokens);
            return;
        }
        matvec(w, device(x), device(y), tokens);
    }

    @Override
    public void linearBatchInvariant(LinearWeights weights, Buffer x, Buffer y, int tokens) {
        matvec(deviceLinear(weights), device(x), device(y), tokens); // the matvec sums each row alike at any count
    }

    private void matvec(DeviceLinear w, DeviceBuffer x, DeviceBuffer y, int tokens) {
        check(x, 0, (long) tokens * w.inFeatures());
        check(y, 0, (long) tokens * w.outFeatures());
        CudaContext.LaunchArgs a = cuda.args().pointer(w.weights());
        if (w.int8()) {
            a.pointer(w.scales());
        }
        a.pointer(x.pointer()).pointer(w.bias()).pointer(y.pointer()).i32(w.outFeatures()).i32(w.inFeatures());
        if (w.int8()) {
            a.i32(w.groupSize());
        }
        // One weight pass serves every token; each (row, token) is summed alike at any token count.
        cuda.launch(w.int8() ? "matvec_int8" : "matvec_bf16", Launch.matvec(w.outFeatures(), tokens), a.i32(tokens));
    }

    private final CublasGemm gemm = new CublasGemm(this);

    CudaContext context() {
        return cuda;
    }

    @Override
    public void rmsNorm(Buffer x, Tensor weight, float eps, Buffer out, int tokens) {
        int dim = weight.cols();
        check(device(x), 0, (long) tokens * dim);
        check(device(out), 0, (long) tokens * dim);
        cuda.launch("rms_norm", Launch.rmsNorm(tokens), cuda.args().pointer(device(x).pointer())
                .pointer(vector(weight)).pointer(device(out).pointer()).i32(dim).f32(eps));
    }

    @Override
    public void rope(Buffer x, int offset, int stride, int heads, int tokens, int startPosition, RopeTable rope) {
        if (tokens == 0) {
            return;
        }
        check(device(x), offset, (long) (tokens - 1) * stride + (long) heads * rope.headDim());
        synchronized (ropeTables) { // no table is freed between its lookup and its launch
            RopeAngles angles = ropeTables.get(rope);
            if (angles == null || angles.positions < startPosition + tokens) {
                if (angles != null) {
                    angles.free(cuda);
                }
                if (ropeTables.size() > 64) { // dynamic NTK makes a table per length: drop the others
                    ropeTables.values().forEach(t -> t.free(cuda)); // cuMemFree waits for the kernels before it
                    ropeTables.clear();
                }
                angles = RopeAngles.upload(cuda, rope, Math.max(startPosition + tokens,
                        angles == null ? 4096 : 2 * angles.positions));
                ropeTables.put(rope, angles);
            }
            cuda.launch("rope", Launch.rope(tokens), cuda.args().pointer(device(x).pointer()).pointer(angles.cos)
                    .pointer(angles.sin).i32(offset).i32(stride).i32(heads).i32(rope.headDim()).i32(startPosition));
        }
    }

    /**
     * A RoPE table's cos and sin for positions {@code [0, positions)} on the device, {@code [position][headDim/2]},
     * computed as {@code CpuBackend.rope} does (F32 angle, then scaled), so the rotation is the CPU's.
     */
    private record RopeAngles(long cos, long sin, int positions) {
        static RopeAngles upload(CudaContext cuda, RopeTable rope, int positions) {
            int half = rope.headDim() / 2;
            float[] invFreq = rope.invFreq();
            float scaling = rope.attentionScaling();
            long count = (long) positions * half;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment cos = arena.allocate(4 * count, 16);
                MemorySegment sin = arena.allocate(4 * count, 16);
                for (int p = 0; p < positions; p++) {
                    for (int i = 0; i < half; i++) {
                        float angle = p * invFreq[i];
                        cos.setAtIndex(ValueLayout.JAVA_FLOAT, (long) p * half + i, (float) Math.cos(angle) * scaling);
                        sin.setAtIndex(ValueLayout.JAVA_FLOAT, (long) p * half + i, (float) Math.sin(angle) * scaling);
                    }
                }
                long c = cuda.allocate(4 * count);
                long s = cuda.allocate(4 * count);
                cuda.upload(cos, c, 4 * count);
                cuda.upload(sin, s, 4 * count);
                return new RopeAngles(c, s, positions);
            }
        }

        void free(CudaContext cuda) {
            cuda.free(cos);
            cuda.free(sin);
        }
    }

    @Override
    public void swiGlu(Buffer gateUp, Buffer out, int n, int tokens) {
        check(device(gateUp), 0, 2L * n * tokens);
        check(device(out), 0, (long) n * tokens);
        cuda.launch("swiglu", Launch.swiglu(n, tokens), cuda.args().pointer(device(gateUp).pointer())
                .pointer(device(out).pointer()).i32(n).i32(tokens));
    }

    @Override
    public void add(Buffer x, Buffer delta, int n) {
        check(device(x), 0, n);
        check(device(delta), 0, n);
        cuda.launch("add", Launch.elementwise(n), cuda.args().pointer(device(x).pointer())
                .pointer(device(delta).pointer()).i32(n));
    }

    @Override
    public void embed(Tensor table, int[] tokenIds, int tokens, Buffer out) {
        check(device(out), 0, (long) tokens * table.cols());
        for (int t = 0; t < tokens; t++) {
            if (tokenIds[t] < 0 || tokenIds[t] >= table.rows()) {
                throw new IllegalArgumentException(table.name() + ": token id " + tokenIds[t] + " outside [0, "
                        + table.rows() + ")");
            }
        }
        long ids = staging.get().ints(cuda, tokenIds, tokens);
        cuda.launch("embed_bf16", Launch.embed(tokens), cuda.args().pointer(matrix(table)).pointer(ids)
                .pointer(device(out).pointer()).i32(table.cols()));
    }

    @Override
    public void storeKv(KvCacheLayer cache, Buffer src, int kOffset, int vOffset, int stride, int tokens,
                        int startPosition) {
        PagedKv.store(this, cache, device(src), kOffset, vOffset, stride, tokens, startPosition);
    }

    @Override
    public void attention(Buffer q, int qOffset, int qStride, int heads, KvCacheLayer cache, int tokens,
                          int startPosition, int window, Buffer out, int outOffset) {
        PagedKv.attend(this, device(q), qOffset, qStride, heads, cache, tokens, startPosition, window, device(out),
                outOffset);
    }

    /** The page table of {@code cache} on the device, in this thread's staging (valid until its next use). */
    long pageTable(KvCacheLayer cache) {
        return staging.get().pages(cuda, cache.pages());
    }

    @Override
    public void close() {
        gemm.close();
        cuda.close();
    }

    /**
     * One thread's host and device staging: host native memory for copies (heap arrays cannot be handed to the
     * driver) and device memory for the token ids and page tables a launch reads. Grown, never shrunk.
     */
    private static final class Staging {
        private MemorySegment host = MemorySegment.NULL;
        private final DeviceInts ids = new DeviceInts(512);
        private final DeviceInts pages = new DeviceInts(1024);

        MemorySegment floats(int n) {
            if (host.byteSize() < 4L * n) {
                host = Arena.ofAuto().allocate(Math.max(4L * n, 1 << 16), 64);
            }
            return host;
        }

        /** The token ids {@code values[0, n)} on the device. */
        long ints(CudaContext cuda, int[] values, int n) {
            MemorySegment h = floats(n);
            MemorySegment.copy(values, 0, h, ValueLayout.JAVA_INT, 0, n);
            ids.upload(cuda, h, n);
            return ids.pointer;
        }

        /** The page table's pages on the device. */
        long pages(CudaContext cuda, PageTable table) {
            int n = table.count();
            MemorySegment h = floats(n);
            for (int i = 0; i < n; i++) {
                h.setAtIndex(ValueLayout.JAVA_INT, i, table.page(i));
            }
            pages.upload(cuda, h, n);
            return pages.pointer;
        }
    }

    /** Device ints grown to the most uploaded at once, at least {@code minimum}. */
    private static final class DeviceInts {
        private final int minimum;
        private long pointer;
        private int length;

        DeviceInts(int minimum) {
            this.minimum = minimum;
        }

        void upload(CudaContext cuda, MemorySegment host, int n) {
            if (length < n) {
                if (pointer != 0) {
                    cuda.free(pointer);
                }
                length = Math.max(n, minimum);
                pointer = cuda.allocate(4L * length);
            }
            cuda.upload(host, pointer, 4L * n);
        }
    }
}
