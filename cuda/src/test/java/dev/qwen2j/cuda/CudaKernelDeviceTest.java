package dev.qwen2j.cuda;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.Backend;
import dev.qwen2j.tensor.CpuBackend;
import dev.qwen2j.tensor.KvCacheLayer;
import dev.qwen2j.tensor.PageTable;
import dev.qwen2j.tensor.RopeTable;
import dev.qwen2j.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The kernels of {@code qwen2j.ptx} on a real device against the CPU backend: random inputs uploaded, each kernel
 * launched through {@code cuLaunchKernel} with {@link Launch}'s geometry, the results read back. Tolerances: 1e-4
 * relative-ish (absolute on values of order 1) for F32 sums whose order differs from the CPU's; bf16 stores exact.
 * Skipped, with the reason, where {@link CudaDriver#open()} finds no driver or device (every development machine);
 * run on a GPU machine with {@code ./build mvn -pl cuda -am test -Dtest=CudaKernelDeviceTest}.
 * Not yet run on hardware.
 */
@Tag("cuda")
class CudaKernelDeviceTest {

    private static CudaDriver driver;
    private static Arena arena;
    private static MemorySegment module;
    private static final List<Long> allocations = new ArrayList<>();
    private static String unavailable;
    private final Random random = new Random(12);

    @BeforeAll
    static void open() throws Exception {
        try {
            driver = CudaDriver.open();
        } catch (CudaUnavailableException e) {
            unavailable = "no CUDA: " + e.getMessage(); // each test is skipped with this reason
            return;
        }
        arena = Arena.ofShared();
        MemorySegment device = arena.allocate(ValueLayout.JAVA_INT);
        driver.check(DriverApi.DEVICE_GET, driver.call(DriverApi.DEVICE_GET, device, 0));
        MemorySegment context = arena.allocate(ValueLayout.ADDRESS);
        driver.check(DriverApi.PRIMARY_CTX_RETAIN, driver.call(DriverApi.PRIMARY_CTX_RETAIN, context, device.get(ValueLayout.JAVA_INT, 0)));
        driver.check(DriverApi.CTX_SET_CURRENT, driver.call(DriverApi.CTX_SET_CURRENT, context.get(ValueLayout.ADDRESS, 0)));
        MemorySegment ptx = arena.allocateFrom(CudaPtxTest.shippedPtx());
        MemorySegment handle = arena.allocate(ValueLayout.ADDRESS);
        driver.check(DriverApi.MODULE_LOAD_DATA, driver.call(DriverApi.MODULE_LOAD_DATA, handle, ptx));
        module = handle.get(ValueLayout.ADDRESS, 0);
    }

    @BeforeEach
    void needsADevice() {
        Assumptions.assumeTrue(driver != null, unavailable);
    }

    @AfterAll
    static void close() {
        if (driver == null) {
            return;
        }
        for (long p : allocations) {
            driver.check(DriverApi.MEM_FREE, driver.call(DriverApi.MEM_FREE, p));
        }
        driver.check(DriverApi.MODULE_UNLOAD, driver.call(DriverApi.MODULE_UNLOAD, module));
        arena.close();
    }

    // ---------------------------------------------------------------- driver helpers

    /** Zeroed device memory, as the CPU's pools are zeroed: pages' unwritten slots then compare equal. */
    private static long alloc(long bytes) {
        long size = Math.max(16, (bytes + 3) / 4 * 4);
        MemorySegment out = arena.allocate(ValueLayout.JAVA_LONG);
        driver.check(DriverApi.MEM_ALLOC, driver.call(DriverApi.MEM_ALLOC, out, size));
        long p = out.get(ValueLayout.JAVA_LONG, 0);
        allocations.add(p);
        driver.check(DriverApi.MEMSET_D32, driver.call(DriverApi.MEMSET_D32, p, 0, size / 4));
        return p;
    }

    private static long upload(MemorySegment host) {
        long p = alloc(host.byteSize());
        driver.check(DriverApi.MEMCPY_HTOD, driver.call(DriverApi.MEMCPY_HTOD, p, host, host.byteSize()));
        return p;
    }

    private static long upload(float[] host) {
        return upload(arena.allocateFrom(ValueLayout.JAVA_FLOAT, host));
    }

    private static long upload(int[] host) {
        return upload(arena.allocateFrom(ValueLayout.JAVA_INT, host));
    }

    private static MemorySegment download(long p, long bytes) {
        MemorySegment host = arena.allocate(bytes, 16);
        driver.check(DriverApi.CTX_SYNCHRONIZE, driver.call(DriverApi.CTX_SYNCHRONIZE));
        driver.check(DriverApi.MEMCPY_DTOH, driver.call(DriverApi.MEMCPY_DTOH, host, p, bytes));
        return host;
    }

    private static float[] downloadFloats(long p, int n) {
        return download(p, (long) n * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT);
    }

    /** A device pointer argument (as opposed to an int). */
    private record Ptr(long address) {
    }

    /** Launches {@code kernel}; arguments are {@link Ptr}, Integer or Float, in the .cu's order. */
    private static void launch(String kernel, Launch l, Object... args) {
        MemorySegment function = arena.allocate(ValueLayout.ADDRESS);
        driver.check(DriverApi.MODULE_GET_FUNCTION, driver.call(DriverApi.MODULE_GET_FUNCTION, function, module,
                arena.allocateFrom(kernel)));
        MemorySegment params = arena.allocate(ValueLayout.ADDRESS, args.length);
        for (int i = 0; i < args.length; i++) {
            MemorySegment value = switch (args[i]) {
                case Ptr p -> arena.allocateFrom(ValueLayout.JAVA_LONG, p.address());
                case Integer v -> arena.allocateFrom(ValueLayout.JAVA_INT, v);
                case Float v -> arena.allocateFrom(ValueLayout.JAVA_FLOAT, v);
                default -> throw new IllegalArgumentException(kernel + ": argument " + i + " is a " + args[i].getClass());
            };
            params.setAtIndex(ValueLayout.ADDRESS, i, value);
        }
        driver.check(DriverApi.LAUNCH_KERNEL, driver.call(DriverApi.LAUNCH_KERNEL, function.get(ValueLayout.ADDRESS, 0),
                l.gridX(), l.gridY(), 1, l.blockX(), 1, 1, l.sharedBytes(), MemorySegment.NULL, params, MemorySegment.NULL));
        driver.check(DriverApi.CTX_SYNCHRONIZE, driver.call(DriverApi.CTX_SYNCHRONIZE));
    }

    private static final Ptr NULL = new Ptr(0);

    private float[] floats(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = random.nextFloat() * 2 - 1;
        }
        return v;
    }

    private Tensor bf16(String name, int rows, int cols) {
        MemorySegment data = arena.allocate((long) rows * cols * 2, 16);
        for (long i = 0; i < (long) rows * cols; i++) {
            data.setAtIndex(ValueLayout.JAVA_SHORT, i, KernelIndexEmulationTest.floatToBf16(random.nextFloat() * 2 - 1));
        }
        return new Tensor(name, data, DType.BF16, rows, cols);
    }

    private static void assertClose(float[] expected, float[] actual, float tolerance, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tolerance * Math.max(1f, Math.abs(expected[i])), what + " [" + i + "]");
        }
    }

    // ---------------------------------------------------------------- kernels

    @Test
    void matvecBf16MatchesTheCpu() {
        for (int[] shape : new int[][]{{896, 896, 1}, {1000, 904, 3}, {37, 100, 9}}) {
            int rows = shape[0], cols = shape[1], tokens = shape[2];
            Tensor w = bf16("w", rows, cols);
            float[] biasValues = floats(rows);
            Tensor bias = new Tensor("b", arena.allocateFrom(ValueLayout.JAVA_FLOAT, biasValues), DType.F32, 1, rows);
            float[] x = floats(tokens * cols), expected = new float[tokens * rows];
            try (CpuBackend cpu = CpuBackend.scalar(1)) {
                Backend.LinearWeights lw = cpu.linear(List.of(w), List.of(bias));
                cpu.linear(lw, x, expected, tokens);
            }
            long y = alloc((long) tokens * rows * 4);
            launch("matvec_bf16", Launch.matvec(rows, tokens), new Ptr(upload(w.data())), new Ptr(upload(x)),
                    new Ptr(upload(biasValues)), new Ptr(y), rows, cols, tokens);
            assertClose(expected, downloadFloats(y, tokens * rows), 1e-4f, "matvec_bf16 " + rows + "x" + cols + " tokens " + tokens);
        }
    }

    @Test
    void matvecInt8MatchesPlainMath() {
        for (int[] shape : new int[][]{{896, 896, 128, 1}, {300, 896, 896, 3}, {37, 100, 50, 9}}) {
            int rows = shape[0], cols = shape[1], group = shape[2], tokens = shape[3];
            byte[] w = new byte[rows * cols];
            for (int i = 0; i < w.length; i++) {
                w[i] = (byte) (random.nextInt(255) - 127);
            }
            float[] scales = floats(rows * (cols / group)), x = floats(tokens * cols), expected = new float[tokens * rows];
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < rows; r++) {
                    double sum = 0;
                    for (int k = 0; k < cols; k++) {
                        sum += (double) w[r * cols + k] * scales[r * (cols / group) + k / group] * x[t * cols + k];
                    }
                    expected[t * rows + r] = (float) sum;
                }
            }
            long y = alloc((long) tokens * rows * 4);
            launch("matvec_int8", Launch.matvec(rows, tokens), new Ptr(upload(arena.allocateFrom(ValueLayout.JAVA_BYTE, w))),
                    new Ptr(upload(scales)), new Ptr(upload(x)), NULL, new Ptr(y), rows, cols, group, tokens);
            assertClose(expected, downloadFloats(y, tokens * rows), 1e-3f, "matvec_int8 " + rows + "x" + cols + "/" + group);
        }
    }

    @Test
    void elementwiseKernelsMatchTheCpu() {
        int dim = 896, tokens = 3, n = 4864;
        try (CpuBackend cpu = CpuBackend.scalar(1)) {
            float[] x = floats(tokens * dim), wv = floats(dim), expected = new float[tokens * dim];
            Tensor weight = new Tensor("norm", arena.allocateFrom(ValueLayout.JAVA_FLOAT, wv), DType.F32, 1, dim);
            cpu.rmsNorm(x, weight, 1e-6f, expected, tokens);
            long out = alloc((long) tokens * dim * 4);
            launch("rms_norm", Launch.rmsNorm(tokens), new Ptr(upload(x)), new Ptr(upload(wv)), new Ptr(out), dim, 1e-6f);
            assertClose(expected, downloadFloats(out, tokens * dim), 1e-5f, "rms_norm");

            float[] gateUp = floats(2 * n * tokens), swi = new float[n * tokens];
            cpu.swiGlu(gateUp, swi, n, tokens);
            long s = alloc((long) n * tokens * 4);
            launch("swiglu", Launch.swiglu(n, tokens), new Ptr(upload(gateUp)), new Ptr(s), n, tokens);
            assertClose(swi, downloadFloats(s, n * tokens), 1e-5f, "swiglu");

            float[] a = floats(n), delta = floats(n), sum = a.clone();
            cpu.add(sum, delta, n);
            long da = upload(a);
            launch("add", Launch.elementwise(n), new Ptr(da), new Ptr(upload(delta)), n);
            assertClose(sum, downloadFloats(da, n), 0f, "add");

            Tensor table = bf16("embed", 100, dim);
            int[] ids = {3, 99, 0};
            float[] embedded = new float[tokens * dim];
            cpu.embed(table, ids, tokens, embedded);
            long e = alloc((long) tokens * dim * 4);
            launch("embed_bf16", Launch.embed(tokens), new Ptr(upload(table.data())), new Ptr(upload(ids)), new Ptr(e), dim);
            assertClose(embedded, downloadFloats(e, tokens * dim), 0f, "embed_bf16");

            int heads = 7, headDim = 64, half = headDim / 2, start = 40, stride = heads * headDim + 2 * 64;
            float[] invFreq = new float[half];
            for (int i = 0; i < half; i++) {
                invFreq[i] = (float) Math.pow(1_000_000.0, -2.0 * i / headDim);
            }
            RopeTable rope = new RopeTable(invFreq, 1f);
            float[] cos = new float[(start + tokens) * half], sin = new float[cos.length];
            for (int p = 0; p < start + tokens; p++) {
                for (int i = 0; i < half; i++) {
                    float angle = (float) p * invFreq[i];
                    cos[p * half + i] = (float) Math.cos(angle);
                    sin[p * half + i] = (float) Math.sin(angle);
                }
            }
            float[] qkv = floats(tokens * stride), rotated = qkv.clone();
            cpu.rope(rotated, 0, stride, heads, tokens, start, rope);
            long dq = upload(qkv);
            launch("rope", Launch.rope(tokens), new Ptr(dq), new Ptr(upload(cos)), new Ptr(upload(sin)), 0, stride, heads,
                    headDim, start);
            assertClose(rotated, downloadFloats(dq, tokens * stride), 1e-6f, "rope");
        }
    }

    @Test
    void pagedAttentionMatchesTheCpu() {
        for (DType dtype : new DType[]{DType.F32, DType.BF16, DType.I8}) {
            for (int[] shape : new int[][]{{7, 1, 64, 1, 100, 0}, {14, 2, 64, 9, 61, 0}, {4, 2, 48, 3, 300, 40},
                    {28, 4, 128, 1, 1500, 0}}) {
                int heads = shape[0], kvHeads = shape[1], headDim = shape[2], tokens = shape[3], start = shape[4],
                        window = shape[5];
                int positions = start + tokens, pages = KvCacheLayer.pagesFor(positions), poolPages = pages + 3;
                PageTable table = new PageTable(pages);
                for (int i = 0; i < pages; i++) {
                    table.append(poolPages - 1 - i); // reversed: a non-identity mapping
                }
                int width = kvHeads * headDim;
                float[] kv = floats(positions * 2 * width), q = floats(tokens * heads * headDim);
                float scale = (float) (1.0 / Math.sqrt(headDim));
                String what = dtype + " heads " + heads + "/" + kvHeads + " headDim " + headDim + " tokens " + tokens
                        + " from " + start + " window " + window;
                try (Arena host = Arena.ofConfined(); CpuBackend cpu = CpuBackend.scalar(1)) {
                    KvCacheLayer cache = KvCacheLayer.ofPool(host, dtype, kvHeads, headDim, poolPages, table);
                    cpu.storeKv(cache, kv, 0, width, 2 * width, positions, 0);
                    float[] expected = new float[tokens * heads * headDim];
                    cpu.attention(q, 0, heads * headDim, heads, cache, tokens, start, window, expected);

                    long poolBytes = (long) poolPages * kvHeads * headDim * KvCacheLayer.PAGE * dtype.byteSize();
                    long keys = alloc(poolBytes), values = alloc(poolBytes);
                    long scaleBytes = (long) poolPages * kvHeads * KvCacheLayer.PAGE * Float.BYTES;
                    long keyScales = dtype == DType.I8 ? alloc(scaleBytes) : 0, valueScales = dtype == DType.I8 ? alloc(scaleBytes) : 0;
                    int[] pageTable = new int[pages];
                    for (int i = 0; i < pages; i++) {
                        pageTable[i] = table.page(i);
                    }
                    long dTable = upload(pageTable), src = upload(kv);
                    Launch store = Launch.storeKv(positions, kvHeads);
                    switch (dtype) {
                        case F32 -> launch("store_kv_f32", store, new Ptr(src), 0, width, 2 * width, new Ptr(keys), new Ptr(values),
                                new Ptr(dTable), kvHeads, poolPages, headDim, 0);
                        case BF16 -> launch("store_kv_bf16", store, new Ptr(src), 0, width, 2 * width, new Ptr(keys), new Ptr(values),
                                new Ptr(dTable), kvHeads, poolPages, headDim, 0);
                        default -> launch("store_kv_i8", store, new Ptr(src), 0, width, 2 * width, new Ptr(keys), new Ptr(values),
                                new Ptr(keyScales), new Ptr(valueScales), new Ptr(dTable), kvHeads, poolPages, headDim, 0);
                    }
                    // Pages the table never maps stay unwritten on the device and zero on the CPU: compare mapped ones.
                    MemorySegment dk = download(keys, poolBytes), dv = download(values, poolBytes);
                    long blockBytes = (long) headDim * KvCacheLayer.PAGE * dtype.byteSize(); // one head's page
                    for (int i = 0; i < pages; i++) {
                        for (int h = 0; h < kvHeads; h++) {
                            long from = cache.keyIndex(pageTable[i], h, 0) * dtype.byteSize();
                            assertEquals(-1, cache.keys().asSlice(from, blockBytes).mismatch(dk.asSlice(from, blockBytes)),
                                    what + ": keys of page " + i + " head " + h);
                            from = cache.valueIndex(pageTable[i], h, 0) * dtype.byteSize();
                            assertEquals(-1, cache.values().asSlice(from, blockBytes).mismatch(dv.asSlice(from, blockBytes)),
                                    what + ": values of page " + i + " head " + h);
                        }
                    }
                    long out = alloc((long) expected.length * 4), dq = upload(q);
                    Launch l = Launch.attention(heads, tokens, headDim);
                    switch (dtype) {
                        case F32 -> launch("attention_f32", l, new Ptr(dq), 0, heads * headDim, heads, new Ptr(keys), new Ptr(values),
                                new Ptr(dTable), kvHeads, poolPages, headDim, start, window, scale, new Ptr(out));
                        case BF16 -> launch("attention_bf16", l, new Ptr(dq), 0, heads * headDim, heads, new Ptr(keys), new Ptr(values),
                                new Ptr(dTable), kvHeads, poolPages, headDim, start, window, scale, new Ptr(out));
                        default -> launch("attention_i8", l, new Ptr(dq), 0, heads * headDim, heads, new Ptr(keys), new Ptr(values),
                                new Ptr(keyScales), new Ptr(valueScales), new Ptr(dTable), kvHeads, poolPages, headDim, start, window, scale,
                                new Ptr(out));
                    }
                    assertClose(expected, downloadFloats(out, expected.length), 1e-4f, what);
                }
            }
        }
    }

    @Test
    void argmaxAndSoftmaxStatsMatchTheHost() {
        int n = 151_936;
        float[] logits = new float[n];
        for (int i = 0; i < n; i++) {
            logits[i] = random.nextFloat() * 20 - 10;
        }
        logits[70_000] = 12f;
        logits[140_000] = 12f;
        long d = upload(logits), result = alloc(8);
        launch("argmax", Launch.argmax(), new Ptr(d), n, new Ptr(result));
        assertEquals(70_000, download(result, 4).get(ValueLayout.JAVA_INT, 0), "argmax takes the first of ties");

        float temperature = 0.7f, max = Float.NEGATIVE_INFINITY;
        float[] scaled = new float[n];
        for (int i = 0; i < n; i++) {
            scaled[i] = logits[i] / temperature;
            max = Math.max(max, scaled[i]);
        }
        double sum = 0;
        for (float v : scaled) {
            sum += Math.exp(v - max);
        }
        launch("softmax_stats", Launch.argmax(), new Ptr(d), n, temperature, new Ptr(result));
        float[] stats = downloadFloats(result, 2);
        assertEquals(max, stats[0], 0f, "max of the scaled logits");
        assertEquals(sum, stats[1], 1e-4 * sum, "sum of exp(logit - max)");
        assertClose(scaled, downloadFloats(d, n), 0f, "logits divided by the temperature in place");
    }
}
