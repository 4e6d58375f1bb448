package dev.qwen2j.tensor;

import dev.qwen2j.core.safetensors.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Grouped-query causal attention: vector (every width) against scalar, scalar against a two-pass softmax in double over the
 * same (possibly bf16-rounded) cache. Tolerance 1e-5 · max|v|: outputs are convex combinations of values;
 * with |q|,|k| ≤ 1 and head sizes ≤ 72 a score errs by at most ~2·72·2⁻²⁴·72·scale ≈ 4e-5 in the worst
 * case and ~1e-7 typically; the weights inherit that relative error, and the seeds are fixed.
 */
class AttentionTest {

    private static final CpuBackend SCALAR = CpuBackend.scalar(1);

    @AfterAll
    static void close() {
        SCALAR.close();
    }

    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void vectorMatchesScalarAndTheMath(int bits) {
        CpuBackend backend = Widths.vector(bits);
        Random random = new Random(21);
        int[][] headShapes = {{4, 2}, {6, 3}, {14, 2}, {2, 2}, {7, 1}};
        int[] headDims = {8, 9, 20, 64, 72};
        int[] tokenChoices = {1, 1, 1, 2, 5, 17, 40};
        for (DType cacheType : new DType[]{DType.F32, DType.BF16, DType.I8}) {
            for (int trial = 0; trial < 10; trial++) {
                int[] shape = headShapes[random.nextInt(headShapes.length)];
                int heads = shape[0];
                int kvHeads = shape[1];
                int headDim = headDims[random.nextInt(headDims.length)];
                int tokens = tokenChoices[random.nextInt(tokenChoices.length)];
                int start = switch (random.nextInt(3)) {
                    case 0 -> 0;
                    case 1 -> random.nextInt(70);
                    default -> 200 + random.nextInt(300); // enough pages for the decode split
                };
                if (start >= 200) {
                    tokens = Math.min(tokens, 2); // long contexts: decode, and a short prefill block
                }
                int window = random.nextBoolean() ? 0 : 1 + random.nextInt(100);
                int capacity = start + tokens + random.nextInt(40);
                KvCacheLayer cache = scrambledCache(cacheType, kvHeads, capacity, headDim, random);

                int kvWidth = kvHeads * headDim;
                int stride = 2 * kvWidth + 3;
                float[] history = TestTensors.randomFloats((start + tokens) * stride, random);
                backend.storeKv(cache, history, 0, kvWidth, stride, start + tokens, 0);

                int qStride = heads * headDim + 1;
                float[] q = TestTensors.randomFloats(2 + tokens * qStride, random);
                float[] vector = new float[tokens * heads * headDim];
                float[] scalar = new float[tokens * heads * headDim];
                backend.attention(q, 2, qStride, heads, cache, tokens, start, window, vector);
                SCALAR.attention(q, 2, qStride, heads, cache, tokens, start, window, scalar);

                String what = cacheType + " heads " + heads + "/" + kvHeads + " dim " + headDim + " tokens " + tokens
                        + " start " + start + " window " + window;
                for (int t = 0; t < tokens; t++) {
                    int position = start + t;
                    int first = window > 0 ? Math.max(0, position - window + 1) : 0;
                    for (int h = 0; h < heads; h++) {
                        double[] exact = exactAttention(q, 2 + t * qStride + h * headDim, cache, h / (heads / kvHeads),
                                first, position);
                        for (int d = 0; d < headDim; d++) {
                            int i = (t * heads + h) * headDim + d;
                            assertEquals(exact[d], scalar[i], 1e-5, what + " scalar t " + t + " h " + h + " d " + d);
                            assertEquals(scalar[i], vector[i], 1e-5, what + " vector t " + t + " h " + h + " d " + d);
                        }
                    }
                }
            }
        }
    }

    /** A pool with spare pages, mapped through a shuffled page table: no kernel may assume pages in order. */
    static KvCacheLayer scrambledCache(DType dtype, int kvHeads, int capacity, int headDim, Random random) {
        int pages = KvCacheLayer.pagesFor(capacity);
        int poolPages = pages + 3;
        java.util.List<Integer> order = new java.util.ArrayList<>();
        for (int i = 0; i < poolPages; i++) {
            order.add(i);
        }
        java.util.Collections.shuffle(order, random);
        PageTable table = new PageTable(1);
        for (int i = 0; i < pages; i++) {
            table.append(order.get(i));
        }
        return KvCacheLayer.ofPool(Arena.ofAuto(), dtype, kvHeads, headDim, poolPages, table);
    }

    static float key(KvCacheLayer cache, int kvHead, int position, int d) {
        int page = cache.pageOf(position);
        int slot = position % KvCacheLayer.PAGE;
        float k = Numbers.read(cache.keys(), cache.dtype(), cache.keyIndex(page, kvHead, d) + slot);
        return cache.keyScales() == null ? k : k * cache.keyScales().getAtIndex(Numbers.FLOAT, cache.scaleIndex(page, kvHead, slot));
    }

    static float value(KvCacheLayer cache, int kvHead, int position, int d) {
        int page = cache.pageOf(position);
        int slot = position % KvCacheLayer.PAGE;
        float v = Numbers.read(cache.values(), cache.dtype(), cache.valueIndex(page, kvHead, slot) + d);
        return cache.valueScales() == null ? v : v * cache.valueScales().getAtIndex(Numbers.FLOAT, cache.scaleIndex(page, kvHead, slot));
    }

    private static double[] exactAttention(float[] q, int qOffset, KvCacheLayer cache, int kvHead, int first, int last) {
        int headDim = cache.headDim();
        double[] scores = new double[last - first + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int p = first; p <= last; p++) {
            double s = 0;
            for (int d = 0; d < headDim; d++) {
                s += q[qOffset + d] * (double) key(cache, kvHead, p, d);
            }
            scores[p - first] = s / Math.sqrt(headDim);
            max = Math.max(max, scores[p - first]);
        }
        double sum = 0;
        for (int i = 0; i < scores.length; i++) {
            scores[i] = Math.exp(scores[i] - max);
            sum += scores[i];
        }
        double[] out = new double[headDim];
        for (int p = first; p <= last; p++) {
            for (int d = 0; d < headDim; d++) {
                out[d] += scores[p - first] / sum * value(cache, kvHead, p, d);
            }
        }
        return out;
    }

    /**
     * A prompt token's attention has the same bits whichever prefill call it is in: the softmax runs of pages start
     * at absolute page numbers, not at the call's first token (what the prefix cache's cold = warm relies on). The
     * context spans several runs of {@link Kernels#CHUNK_PAGES} pages and the blocks split mid-run.
     */
    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void aPromptTokensAttentionDoesNotDependOnItsPrefillCall(int bits) {
        CpuBackend backend = Widths.vector(bits);
        Random random = new Random(33);
        int heads = 14, kvHeads = 2, headDim = 64;
        int start = Kernels.CHUNK_SLOTS + 37, tokens = Kernels.CHUNK_SLOTS + 11;
        for (DType cacheType : new DType[]{DType.F32, DType.BF16, DType.I8}) {
            for (int window : new int[]{0, Kernels.CHUNK_SLOTS + 5}) {
                KvCacheLayer cache = scrambledCache(cacheType, kvHeads, start + tokens, headDim, random);
                int kvWidth = kvHeads * headDim;
                float[] history = TestTensors.randomFloats((start + tokens) * 2 * kvWidth, random);
                backend.storeKv(cache, history, 0, kvWidth, 2 * kvWidth, start + tokens, 0);
                int qWidth = heads * headDim;
                float[] q = TestTensors.randomFloats(tokens * qWidth, random);
                float[] whole = new float[tokens * qWidth];
                backend.attention(q, 0, qWidth, heads, cache, tokens, start, window, whole);
                for (int split : new int[]{1, 17, Kernels.CHUNK_SLOTS - 37}) {
                    float[] parts = new float[tokens * qWidth];
                    backend.attention(q, 0, qWidth, heads, cache, split, start, window, parts, 0);
                    backend.attention(java.util.Arrays.copyOfRange(q, split * qWidth, q.length), 0, qWidth, heads, cache,
                            tokens - split, start + split, window, parts, split * qWidth);
                    for (int i = split == 1 ? qWidth : 0; i < whole.length; i++) { // one token alone is a decode
                        assertEquals(Float.floatToRawIntBits(whole[i]), Float.floatToRawIntBits(parts[i]),
                                cacheType + " window " + window + " split " + split + " at " + i);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void storeKvRoundsToTheCacheType(int bits) {
        CpuBackend backend = Widths.vector(bits);
        KvCacheLayer cache = KvCacheLayer.allocate(Arena.ofAuto(), DType.BF16, 2, 4, 3);
        int capacity = cache.capacity(); // whole pages
        float[] src = {1.00390625f, 2, 3, 4, 5, 6, /* values */ 7, 8, 9, 10, 11, 12};
        backend.storeKv(cache, src, 0, 6, 12, 1, 2);
        // 1 + 2⁻⁸ is a tie between bf16 1 and 1 + 2⁻⁷: to even, 1
        assertEquals(1f, key(cache, 0, 2, 0));
        assertEquals(4f, key(cache, 1, 2, 0));
        assertEquals(12f, value(cache, 1, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> backend.storeKv(cache, src, 0, 6, 12, 1, capacity));
        assertThrows(IllegalArgumentException.class,
                () -> backend.attention(new float[6], 0, 6, 2, cache, 1, capacity, 0, new float[6]));
    }

    /** I8: each head and position is scaled by max|x| / 127, and round-trips within half a step. */
    @Test
    void int8CacheQuantizesPerHeadAndPosition() {
        KvCacheLayer cache = KvCacheLayer.allocate(Arena.ofAuto(), DType.I8, 1, 40, 4);
        float[] src = {0.5f, -1.27f, 0.01f, 0f, /* values */ 2f, 0f, -2f, 1f};
        SCALAR.storeKv(cache, src, 0, 4, 8, 1, 35); // second page
        assertEquals(-1.27f, key(cache, 0, 35, 1), 1e-6);
        assertEquals(0.5f, key(cache, 0, 35, 0), 1.27f / 127 / 2);
        assertEquals(0.01f, key(cache, 0, 35, 2), 1.27f / 127 / 2);
        assertEquals(-2f, value(cache, 0, 35, 2), 1e-6);
        assertEquals(1f, value(cache, 0, 35, 3), 2f / 127 / 2);
        float[] zeros = new float[8];
        SCALAR.storeKv(cache, zeros, 0, 4, 8, 1, 36); // an all-zero head: scale 0, no division by zero
        assertEquals(0f, key(cache, 0, 36, 0));
    }
}
