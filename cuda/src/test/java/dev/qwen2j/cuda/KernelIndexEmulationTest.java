package dev.qwen2j.cuda;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.CpuBackend;
import dev.qwen2j.tensor.KvCacheLayer;
import dev.qwen2j.tensor.PageTable;
import dev.qwen2j.tensor.RopeTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernels' grid/block index arithmetic, emulated on the CPU thread by thread with the launch geometry
 * {@link Launch} gives, against the CPU backend or the plain math, for odd sizes: a row, column, position or
 * dimension that two threads share or none covers, or a wrong page/slot/offset, shows up here without a GPU.
 * Each test mirrors one kernel of {@code src/main/cuda/qwen2j.cu}, with its index expressions written the same way:
 * {@code key_index}/{@code value_index}/{@code scale_index} and {@code float_to_bf16} as static helpers here, the
 * {@code store_kv} template and {@code store_kv_i8}, the {@code attention} template (page loop per warp, lane =
 * slot, online softmax, warp merge), {@code rope}, {@code swiglu}, and the batched {@code matvec_bf16} /
 * {@code matvec_int8} bodies; each test's javadoc names its kernel. (Numerics on hardware: CudaKernelDeviceTest.)
 */
class KernelIndexEmulationTest {

    private final Random random = new Random(12);

    @Test
    void matvecCoversEveryRowAndColumnOnce() {
        for (int[] shape : new int[][]{{1, 8}, {7, 8}, {9, 33}, {17, 896}, {31, 100}, {8, 7}}) {
            int rows = shape[0], cols = shape[1];
            float[] w = floats(rows * cols), x = floats(cols);
            int[] hits = new int[rows * cols];
            float[] y = new float[rows];
            Launch l = Launch.matvec(rows, 1);
            for (int block = 0; block < l.gridX(); block++) {
                for (int warpStart = 0; warpStart < l.blockX(); warpStart += Launch.WARP) {
                    int row = block * (l.blockX() / Launch.WARP) + warpStart / Launch.WARP;
                    if (row >= rows) {
                        continue;
                    }
                    float sum = 0; // the warp's lanes, summed as warp_sum would
                    for (int lane = 0; lane < Launch.WARP; lane++) {
                        if (cols % 8 == 0) {
                            for (int k = lane; k < cols / 8; k += Launch.WARP) {
                                for (int e = 0; e < 8; e++) {
                                    hits[row * cols + k * 8 + e]++;
                                    sum += w[row * cols + k * 8 + e] * x[k * 8 + e];
                                }
                            }
                        } else {
                            for (int k = lane; k < cols; k += Launch.WARP) {
                                hits[row * cols + k]++;
                                sum += w[row * cols + k] * x[k];
                            }
                        }
                    }
                    y[row] = sum;
                }
            }
            for (int i = 0; i < hits.length; i++) {
                assertEquals(1, hits[i], rows + "x" + cols + " element " + i);
            }
            for (int r = 0; r < rows; r++) {
                double exact = 0;
                for (int k = 0; k < cols; k++) {
                    exact += (double) w[r * cols + k] * x[k];
                }
                assertEquals(exact, y[r], 1e-4, rows + "x" + cols + " row " + r);
            }
        }
    }

    @Test
    void int8GroupsIndexTheirScales() {
        int rows = 5, cols = 96, group = 32;
        byte[] w = new byte[rows * cols];
        float[] scales = floats(rows * cols / group), x = floats(cols);
        for (int i = 0; i < w.length; i++) {
            w[i] = (byte) (random.nextInt(255) - 127);
        }
        for (int row = 0; row < rows; row++) {
            float sum = 0;
            for (int lane = 0; lane < Launch.WARP; lane++) {
                for (int k = lane; k < cols; k += Launch.WARP) {
                    sum += scales[row * (cols / group) + k / group] * w[row * cols + k] * x[k];
                }
            }
            double exact = 0;
            for (int g = 0; g < cols / group; g++) {
                double dot = 0;
                for (int k = g * group; k < (g + 1) * group; k++) {
                    dot += (double) w[row * cols + k] * x[k];
                }
                exact += scales[row * (cols / group) + g] * dot;
            }
            assertEquals(exact, sum, 1e-3, "row " + row);
        }
    }

    @Test
    void blockStrideLoopsCoverOddSizes() {
        for (int n : new int[]{1, 255, 256, 257, 896, 1031}) {
            int[] hits = new int[n];
            Launch l = Launch.rmsNorm(1);
            for (int t = 0; t < l.blockX(); t++) {
                for (int i = t; i < n; i += l.blockX()) {
                    hits[i]++;
                }
            }
            for (int h : hits) {
                assertEquals(1, h, "rms_norm n " + n);
            }
            int[] elementHits = new int[n];
            Launch e = Launch.elementwise(n);
            for (int b = 0; b < e.gridX(); b++) {
                for (int t = 0; t < e.blockX(); t++) {
                    int i = b * e.blockX() + t;
                    if (i < n) {
                        elementHits[i]++;
                    }
                }
            }
            for (int h : elementHits) {
                assertEquals(1, h, "elementwise n " + n);
            }
        }
    }

    @Test
    void argmaxTakesTheFirstOfTies() {
        int n = 151_936;
        float[] x = floats(n);
        x[70_000] = 5f;
        x[140_000] = 5f;
        x[3] = 5f;
        // per-thread scan, then the warp and block combine as the kernel does
        int threads = Launch.argmax().blockX();
        float[] value = new float[threads];
        int[] index = new int[threads];
        for (int t = 0; t < threads; t++) {
            value[t] = Float.NEGATIVE_INFINITY;
            index[t] = Integer.MAX_VALUE;
            for (int i = t; i < n; i += threads) {
                if (x[i] > value[t]) {
                    value[t] = x[i];
                    index[t] = i;
                }
            }
        }
        float best = Float.NEGATIVE_INFINITY;
        int bestIndex = Integer.MAX_VALUE;
        for (int t = 0; t < threads; t++) {
            if (value[t] > best || (value[t] == best && index[t] < bestIndex)) {
                best = value[t];
                bestIndex = index[t];
            }
        }
        assertEquals(3, bestIndex);
    }

    // ---------------------------------------------------------------- paged KV cache and attention

    /** A pool of {@code poolPages} pages seen through a shuffled (non-identity) table of {@code pages} pages. */
    private static PageTable shuffledTable(int pages, int poolPages, Random random) {
        List<Integer> pool = new ArrayList<>();
        for (int i = 0; i < poolPages; i++) {
            pool.add(i);
        }
        Collections.shuffle(pool, random);
        PageTable table = new PageTable(pages);
        for (int i = 0; i < pages; i++) {
            table.append(pool.get(i));
        }
        return table;
    }

    private static int[] tableArray(PageTable table) {
        int[] out = new int[table.count()];
        for (int i = 0; i < out.length; i++) {
            out[i] = table.page(i);
        }
        return out;
    }

    /** qwen2j.cu's key_index, value_index, scale_index, written the same way. */
    static long keyIndex(int page, int poolPages, int h, int headDim, int d, int slot) {
        return (((long) h * poolPages + page) * headDim + d) * KvCacheLayer.PAGE + slot;
    }

    static long valueIndex(int page, int poolPages, int h, int headDim, int slot, int d) {
        return (((long) h * poolPages + page) * KvCacheLayer.PAGE + slot) * headDim + d;
    }

    static long scaleIndex(int page, int poolPages, int h, int slot) {
        return ((long) h * poolPages + page) * KvCacheLayer.PAGE + slot;
    }

    /** qwen2j.cu's float_to_bf16. */
    static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /**
     * store_kv_f32 / store_kv_bf16 / store_kv_i8 (qwen2j.cu, "Keys and values of `tokens` tokens into the paged
     * cache"), block (t, h) and its threads striding head_dim, against CpuBackend.storeKv byte for byte.
     */
    @ParameterizedTest
    @CsvSource({"F32,1,64,1,37", "F32,2,48,9,27", "BF16,1,64,3,62", "BF16,3,48,9,30", "F32,2,64,40,5",
            "I8,2,48,9,27", "I8,1,64,3,62"})
    void storeKvWritesTheCpuPagedLayout(DType dtype, int kvHeads, int headDim, int tokens, int start) {
        int positions = start + tokens;
        int pages = KvCacheLayer.pagesFor(positions);
        int poolPages = pages + 3;
        PageTable table = shuffledTable(pages, poolPages, random);
        int stride = 2 * kvHeads * headDim + 5; // k then v then junk: offsets and stride are honoured
        int kOffset = 3, vOffset = 3 + kvHeads * headDim;
        float[] src = floats(kOffset + tokens * stride);
        try (Arena arena = Arena.ofConfined(); CpuBackend cpu = CpuBackend.scalar(1)) {
            KvCacheLayer cache = KvCacheLayer.ofPool(arena, dtype, kvHeads, headDim, poolPages, table);
            cpu.storeKv(cache, src, kOffset, vOffset, stride, tokens, start);
            KvCacheLayer emulated = KvCacheLayer.ofPool(arena, dtype, kvHeads, headDim, poolPages, table);
            int[] pageTable = tableArray(table);
            Launch l = Launch.storeKv(tokens, kvHeads);
            for (int t = 0; t < l.gridX(); t++) {
                for (int h = 0; h < l.gridY(); h++) {
                    int position = start + t;
                    int page = pageTable[position >> 5];
                    int slot = position & (KvCacheLayer.PAGE - 1);
                    int k = kOffset + t * stride + h * headDim;
                    int v = vOffset + t * stride + h * headDim;
                    float kscale = 1f, vscale = 1f;
                    if (dtype == DType.I8) {
                        float kmax = 0f, vmax = 0f;
                        for (int d = 0; d < headDim; d++) {
                            kmax = Math.max(kmax, Math.abs(src[k + d]));
                            vmax = Math.max(vmax, Math.abs(src[v + d]));
                        }
                        kscale = kmax / 127f;
                        vscale = vmax / 127f;
                        emulated.keyScales().setAtIndex(ValueLayout.JAVA_FLOAT, scaleIndex(page, poolPages, h, slot), kscale);
                        emulated.valueScales().setAtIndex(ValueLayout.JAVA_FLOAT, scaleIndex(page, poolPages, h, slot), vscale);
                    }
                    for (int thread = 0; thread < l.blockX(); thread++) {
                        for (int d = thread; d < headDim; d += l.blockX()) {
                            put(emulated.keys(), dtype, keyIndex(page, poolPages, h, headDim, d, slot), src[k + d], kscale);
                            put(emulated.values(), dtype, valueIndex(page, poolPages, h, headDim, slot, d), src[v + d], vscale);
                        }
                    }
                }
            }
            String what = dtype + " kvHeads " + kvHeads + " headDim " + headDim + " tokens " + tokens + " from " + start;
            assertEquals(-1, cache.keys().mismatch(emulated.keys()), what + ": keys");
            assertEquals(-1, cache.values().mismatch(emulated.values()), what + ": values");
            if (dtype == DType.I8) {
                assertEquals(-1, cache.keyScales().mismatch(emulated.keyScales()), what + ": key scales");
                assertEquals(-1, cache.valueScales().mismatch(emulated.valueScales()), what + ": value scales");
            }
        }
    }

    private static void put(MemorySegment data, DType dtype, long index, float value, float scale) {
        switch (dtype) {
            case F32 -> data.setAtIndex(ValueLayout.JAVA_FLOAT, index, value);
            case BF16 -> data.setAtIndex(ValueLayout.JAVA_SHORT, index, floatToBf16(value));
            default -> { // qwen2j.cu's quantize
                int q = scale == 0f ? 0 : (int) Math.floor(value / scale + 0.5f);
                data.set(ValueLayout.JAVA_BYTE, index, (byte) Math.max(-127, Math.min(127, q)));
            }
        }
    }

    private static float load(MemorySegment data, DType dtype, long index) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(ValueLayout.JAVA_FLOAT, index);
            case BF16 -> Float.intBitsToFloat((data.getAtIndex(ValueLayout.JAVA_SHORT, index) & 0xffff) << 16);
            default -> data.get(ValueLayout.JAVA_BYTE, index);
        };
    }

    /**
     * The attention template of qwen2j.cu ("Causal grouped-query attention over the paged cache"), block (h, t):
     * each warp's page loop p = lo/PAGE + warp (step ATTN_WARPS), lane = slot, the warp's online softmax and the
     * shared-memory merge of the warps, against CpuBackend.attention on the same paged cache.
     */
    @ParameterizedTest
    @CsvSource({"F32,7,1,64,1,36,0", "F32,7,1,48,3,70,0", "BF16,4,2,64,9,29,0", "F32,6,2,48,9,100,40",
            "BF16,7,1,48,1,300,33", "F32,2,2,64,3,0,0", "I8,7,1,48,3,70,0", "I8,4,2,64,1,291,50",
            "F32,14,2,64,1,600,0"})
    void attentionOverThePagedCacheMatchesTheCpu(DType dtype, int heads, int kvHeads, int headDim, int tokens,
                                                 int start, int window) {
        int positions = start + tokens;
        int pages = KvCacheLayer.pagesFor(positions);
        PageTable table = shuffledTable(pages, pages + 2, random);
        int width = kvHeads * headDim;
        float[] kv = floats(positions * 2 * width);
        int qStride = heads * headDim + 2 * width; // q of a fused qkv row
        float[] q = floats(tokens * qStride + 1);
        int qOffset = 1;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        try (Arena arena = Arena.ofConfined(); CpuBackend cpu = CpuBackend.scalar(1)) {
            KvCacheLayer cache = KvCacheLayer.ofPool(arena, dtype, kvHeads, headDim, pages + 2, table);
            cpu.storeKv(cache, kv, 0, width, 2 * width, positions, 0);
            float[] expected = new float[tokens * heads * headDim];
            cpu.attention(q, qOffset, qStride, heads, cache, tokens, start, window, expected);
            float[] out = new float[expected.length];
            int[] pageTable = tableArray(table);
            Launch l = Launch.attention(heads, tokens, headDim);
            int warps = l.blockX() / Launch.WARP;
            int perLane = Launch.MAX_HEAD_DIM / Launch.WARP;
            int[] hits = new int[out.length];
            for (int h = 0; h < l.gridX(); h++) {
                for (int t = 0; t < l.gridY(); t++) {
                    int kvHead = h / (heads / kvHeads);
                    int hi = start + t;
                    int lo = window > 0 ? Math.max(0, hi - window + 1) : 0;
                    int qh = qOffset + t * qStride + h * headDim;
                    float[] warpM = new float[warps], warpL = new float[warps];
                    float[][] warpAcc = new float[warps][Launch.MAX_HEAD_DIM];
                    for (int warp = 0; warp < warps; warp++) {
                        float m = Float.NEGATIVE_INFINITY, lsum = 0f;
                        float[][] acc = new float[Launch.WARP][perLane];
                        for (int p = lo / KvCacheLayer.PAGE + warp; p <= hi / KvCacheLayer.PAGE; p += warps) {
                            int page = pageTable[p];
                            float[] score = new float[Launch.WARP];
                            float pageMax = Float.NEGATIVE_INFINITY;
                            for (int lane = 0; lane < Launch.WARP; lane++) {
                                int position = p * KvCacheLayer.PAGE + lane;
                                score[lane] = Float.NEGATIVE_INFINITY;
                                if (position >= lo && position <= hi) {
                                    float dot = 0f;
                                    for (int d = 0; d < headDim; d++) {
                                        dot += q[qh + d] * load(cache.keys(), dtype, keyIndex(page, cache.poolPages(), kvHead, headDim, d, lane));
                                    }
                                    if (dtype == DType.I8) {
                                        dot *= cache.keyScales().getAtIndex(ValueLayout.JAVA_FLOAT, scaleIndex(page, cache.poolPages(), kvHead, lane));
                                    }
                                    score[lane] = dot * scale;
                                }
                                pageMax = Math.max(pageMax, score[lane]);
                            }
                            assertTrue(pageMax > Float.NEGATIVE_INFINITY, "page " + p + " has no visible slot");
                            float newMax = Math.max(m, pageMax);
                            float correction = (float) Math.exp(m - newMax);
                            float[] weight = new float[Launch.WARP];
                            float eSum = 0f;
                            for (int lane = 0; lane < Launch.WARP; lane++) {
                                float e = (float) Math.exp(score[lane] - newMax);
                                eSum += e;
                                weight[lane] = dtype == DType.I8
                                        ? e * cache.valueScales().getAtIndex(ValueLayout.JAVA_FLOAT, scaleIndex(page, cache.poolPages(), kvHead, lane))
                                        : e;
                            }
                            lsum = lsum * correction + eSum;
                            for (int lane = 0; lane < Launch.WARP; lane++) {
                                for (int j = 0; j < perLane; j++) {
                                    acc[lane][j] *= correction;
                                }
                                for (int s = 0; s < KvCacheLayer.PAGE; s++) {
                                    if (weight[s] != 0f) {
                                        for (int j = 0; j < perLane; j++) {
                                            int d = lane + j * Launch.WARP;
                                            if (d < headDim) {
                                                acc[lane][j] += weight[s] * load(cache.values(), dtype, valueIndex(page, cache.poolPages(), kvHead, headDim, s, d));
                                            }
                                        }
                                    }
                                }
                            }
                            m = newMax;
                        }
                        warpM[warp] = m;
                        warpL[warp] = lsum;
                        for (int lane = 0; lane < Launch.WARP; lane++) {
                            for (int j = 0; j < perLane; j++) {
                                int d = lane + j * Launch.WARP;
                                if (d < headDim) {
                                    warpAcc[warp][d] = acc[lane][j];
                                }
                            }
                        }
                    }
                    float maxAll = Float.NEGATIVE_INFINITY;
                    for (int w = 0; w < warps; w++) {
                        maxAll = Math.max(maxAll, warpM[w]);
                    }
                    float sum = 0f;
                    for (int w = 0; w < warps; w++) {
                        if (warpM[w] != Float.NEGATIVE_INFINITY) {
                            sum += (float) Math.exp(warpM[w] - maxAll) * warpL[w];
                        }
                    }
                    int o = (t * heads + h) * headDim;
                    for (int thread = 0; thread < l.blockX(); thread++) {
                        for (int d = thread; d < headDim; d += l.blockX()) {
                            float v = 0f;
                            for (int w = 0; w < warps; w++) {
                                if (warpM[w] != Float.NEGATIVE_INFINITY) {
                                    v += (float) Math.exp(warpM[w] - maxAll) * warpAcc[w][d];
                                }
                            }
                            out[o + d] = v / sum;
                            hits[o + d]++;
                        }
                    }
                }
            }
            String what = dtype + " heads " + heads + "/" + kvHeads + " headDim " + headDim + " tokens " + tokens
                    + " from " + start + " window " + window;
            for (int i = 0; i < out.length; i++) {
                assertEquals(1, hits[i], what + ": output " + i + " written once");
                assertEquals(expected[i], out[i], 2e-5f, what + ": output " + i);
            }
        }
    }

    /** rope (qwen2j.cu): block t, threads striding j over heads*half pairs, cos/sin tables [position][half]. */
    @ParameterizedTest
    @CsvSource({"7,64,1,0", "2,48,3,31", "3,64,9,100"})
    void ropeMatchesTheCpu(int heads, int headDim, int tokens, int start) {
        int half = headDim / 2;
        float[] invFreq = new float[half];
        for (int i = 0; i < half; i++) {
            invFreq[i] = (float) Math.pow(1_000_000.0, -2.0 * i / headDim);
        }
        RopeTable rope = new RopeTable(invFreq, 1.25f);
        int positions = start + tokens;
        float[] cos = new float[positions * half], sin = new float[positions * half];
        for (int p = 0; p < positions; p++) { // as the backend builds them: the CPU's own expression
            for (int i = 0; i < half; i++) {
                float angle = (float) p * invFreq[i];
                cos[p * half + i] = (float) Math.cos(angle) * rope.attentionScaling();
                sin[p * half + i] = (float) Math.sin(angle) * rope.attentionScaling();
            }
        }
        int stride = heads * headDim + 11, offset = 4;
        float[] x = floats(offset + tokens * stride);
        float[] expected = x.clone();
        try (CpuBackend cpu = CpuBackend.scalar(1)) {
            cpu.rope(expected, offset, stride, heads, tokens, start, rope);
        }
        Launch l = Launch.rope(tokens);
        for (int t = 0; t < l.gridX(); t++) {
            int angles = (start + t) * half;
            int token = offset + t * stride;
            for (int thread = 0; thread < l.blockX(); thread++) {
                for (int j = thread; j < heads * half; j += l.blockX()) {
                    int h = j / half, i = j % half;
                    float c = cos[angles + i], s = sin[angles + i];
                    int a = token + h * headDim + i;
                    float x0 = x[a], x1 = x[a + half];
                    x[a] = x0 * c - x1 * s;
                    x[a + half] = x1 * c + x0 * s;
                }
            }
        }
        assertArrayEquals(expected, x, "rope heads " + heads + " headDim " + headDim + " tokens " + tokens);
    }

    /** swiglu (qwen2j.cu): i over n*tokens, t = i / n, c = i % n, gate and up in row t of 2n. */
    @Test
    void swigluIndexesEachRowsGateAndUp() {
        for (int[] shape : new int[][]{{1, 1}, {7, 3}, {300, 9}, {4864, 1}}) {
            int n = shape[0], tokens = shape[1];
            float[] gateUp = floats(2 * n * tokens);
            float[] expected = new float[n * tokens], out = new float[n * tokens];
            try (CpuBackend cpu = CpuBackend.scalar(1)) {
                cpu.swiGlu(gateUp, expected, n, tokens);
            }
            Launch l = Launch.swiglu(n, tokens);
            for (int b = 0; b < l.gridX(); b++) {
                for (int thread = 0; thread < l.blockX(); thread++) {
                    int i = b * l.blockX() + thread;
                    if (i < n * tokens) {
                        int t = i / n, c = i % n;
                        int row = t * 2 * n;
                        float g = gateUp[row + c];
                        out[i] = g / (1f + (float) Math.exp(-g)) * gateUp[row + n + c];
                    }
                }
            }
            assertArrayEquals(expected, out, 1e-6f, "swiglu n " + n + " tokens " + tokens);
        }
    }

    /**
     * matvec_bf16 / matvec_int8 over tokens (qwen2j.cu): row = blockIdx.x*8 + warp, t0 = blockIdx.y*MATVEC_TOKENS,
     * n = min(MATVEC_TOKENS, tokens - t0), y[(t0 + t)*rows + row]; int8 16-byte runs scaled by s[k*16/group].
     */
    @ParameterizedTest
    @CsvSource({"7,64,64,1", "9,96,32,3", "17,128,128,9", "5,40,8,9", "3,48,48,17", "31,100,100,8"})
    void batchedMatvecCoversEveryTokenAndRow(int rows, int cols, int group, int tokens) {
        byte[] w = new byte[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (byte) (random.nextInt(255) - 127);
        }
        float[] scales = floats(rows * (cols / group)), x = floats(tokens * cols), bias = floats(rows);
        float[] y = new float[tokens * rows];
        int[] hits = new int[tokens * rows];
        Launch l = Launch.matvec(rows, tokens);
        for (int bx = 0; bx < l.gridX(); bx++) {
            for (int by = 0; by < l.gridY(); by++) {
                for (int warpStart = 0; warpStart < l.blockX(); warpStart += Launch.WARP) {
                    int row = bx * (l.blockX() / Launch.WARP) + warpStart / Launch.WARP;
                    int t0 = by * Launch.MATVEC_TOKENS;
                    int n = Math.min(Launch.MATVEC_TOKENS, tokens - t0);
                    if (row >= rows) {
                        continue;
                    }
                    float[] sum = new float[Launch.MATVEC_TOKENS];
                    for (int lane = 0; lane < Launch.WARP; lane++) {
                        if (cols % 16 == 0 && group % 16 == 0) {
                            for (int k = lane; k < cols / 16; k += Launch.WARP) {
                                float scale = scales[row * (cols / group) + k * 16 / group];
                                for (int t = 0; t < n; t++) {
                                    float run = 0f;
                                    for (int e = 0; e < 16; e++) {
                                        run += w[row * cols + k * 16 + e] * x[(t0 + t) * cols + k * 16 + e];
                                    }
                                    sum[t] += run * scale;
                                }
                            }
                        } else {
                            for (int k = lane; k < cols; k += Launch.WARP) {
                                float wk = w[row * cols + k] * scales[row * (cols / group) + k / group];
                                for (int t = 0; t < n; t++) {
                                    sum[t] += wk * x[(t0 + t) * cols + k];
                                }
                            }
                        }
                    }
                    for (int t = 0; t < n; t++) {
                        y[(t0 + t) * rows + row] = sum[t] + bias[row];
                        hits[(t0 + t) * rows + row]++;
                    }
                }
            }
        }
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double exact = bias[r];
                for (int k = 0; k < cols; k++) {
                    exact += (double) w[r * cols + k] * scales[r * (cols / group) + k / group] * x[t * cols + k];
                }
                assertEquals(1, hits[t * rows + r], "token " + t + " row " + r);
                assertEquals(exact, y[t * rows + r], 1e-3, rows + "x" + cols + "/" + group + " token " + t + " row " + r);
            }
        }
    }


    private float[] floats(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = random.nextFloat() * 2 - 1;
        }
        return v;
    }
}
