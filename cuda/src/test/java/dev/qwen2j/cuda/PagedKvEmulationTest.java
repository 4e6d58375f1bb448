package dev.qwen2j.cuda;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.CpuBackend;
import dev.qwen2j.tensor.KvCacheLayer;
import dev.qwen2j.tensor.PageTable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The paged {@code store_kv} and {@code attention} kernels of {@code qwen2j.cu}, emulated on the CPU block by block
 * and thread by thread with {@link Launch}'s geometry and the kernels' own index expressions, against
 * {@link CpuBackend}: the same bytes in the cache, the same attention within float rounding. A page table that is not
 * the identity, positions that cross pages, GQA with 7 query heads a KV head, a sliding window and odd head sizes make
 * a wrong page, slot or offset show up here without a GPU.
 */
class PagedKvEmulationTest {

    private static final int PAGE = KvCacheLayer.PAGE;
    private static final CpuBackend CPU = CpuBackend.scalar(1);
    private final Random random = new Random(77);

    @AfterAll
    static void close() {
        CPU.close();
    }

    @Test
    void storeAndAttendAsTheCpuDoes() {
        int[][] shapes = {{7, 1, 64}, {4, 2, 48}, {14, 2, 64}};
        int[][] runs = {{0, 9}, {9, 1}, {10, 30}, {40, 1}, {41, 3}, {44, 70}, {114, 1}};
        for (int[] shape : shapes) {
            for (int window : new int[] {0, 40}) {
                check(shape[0], shape[1], shape[2], window, runs);
            }
        }
    }

    private void check(int heads, int kvHeads, int headDim, int window, int[][] runs) {
        PageTable table = new PageTable(8);
        for (int page : new int[] {6, 2, 9, 0, 5}) {
            table.append(page);
        }
        try (Arena arena = Arena.ofConfined()) {
            KvCacheLayer emulated = CPU.kvPool(arena, DType.F32, kvHeads, headDim, 10, table);
            KvCacheLayer reference = CPU.kvPool(arena, DType.F32, kvHeads, headDim, 10, table);
            int qDim = heads * headDim;
            int kvDim = kvHeads * headDim;
            int stride = qDim + 2 * kvDim + 3; // rows wider than q|k|v, as a batch's rows are not
            for (int[] run : runs) {
                int start = run[0], tokens = run[1];
                int qOffset = 5;
                float[] qkv = new float[qOffset + tokens * stride];
                for (int i = 0; i < qkv.length; i++) {
                    qkv[i] = random.nextFloat() * 2 - 1;
                }
                int kOffset = qOffset + qDim;
                int vOffset = kOffset + kvDim;
                storeKv(qkv, kOffset, vOffset, stride, emulated, tables(table), kvHeads, headDim, start, tokens);
                CPU.storeKv(reference, qkv, kOffset, vOffset, stride, tokens, start);
                assertEquals(-1, emulated.keys().mismatch(reference.keys()), "keys after " + start + "+" + tokens);
                assertEquals(-1, emulated.values().mismatch(reference.values()), "values after " + start + "+" + tokens);

                int outOffset = 11;
                float[] expected = new float[outOffset + tokens * qDim];
                float[] got = new float[outOffset + tokens * qDim];
                CPU.attention(qkv, qOffset, stride, heads, reference, tokens, start, window, expected, outOffset);
                attention(qkv, qOffset, stride, emulated, tables(table), got, outOffset, heads, kvHeads, headDim,
                        start, window, (float) (1 / Math.sqrt(headDim)), tokens);
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], got[i], 2e-5f, heads + "/" + kvHeads + " heads, dim " + headDim
                            + ", window " + window + ", run " + start + "+" + tokens + ", float " + i);
                }
            }
        }
    }

    private static int[] tables(PageTable table) {
        int[] pages = new int[table.count()];
        for (int i = 0; i < pages.length; i++) {
            pages[i] = table.page(i);
        }
        return pages;
    }

    /** store_kv: grid (tokens, kv_heads), block head_dim; the body as in the kernel. */
    private static void storeKv(float[] src, int kOffset, int vOffset, int stride, KvCacheLayer cache, int[] pages,
                                int kvHeads, int headDim, int startPosition, int tokens) {
        Launch l = Launch.storeKv(tokens, kvHeads, headDim);
        for (int bx = 0; bx < l.gridX(); bx++) {
            for (int by = 0; by < l.gridY(); by++) {
                for (int tx = 0; tx < l.blockX(); tx++) {
                    int t = bx, h = by, d = tx;
                    int position = startPosition + t;
                    long page = pages[position >> 5];
                    int slot = position & (PAGE - 1);
                    long head = page * kvHeads + h;
                    long row = (long) t * stride + (long) h * headDim + d;
                    cache.keys().setAtIndex(ValueLayout.JAVA_FLOAT, (head * headDim + d) * PAGE + slot, src[(int) (kOffset + row)]);
                    cache.values().setAtIndex(ValueLayout.JAVA_FLOAT, (head * PAGE + slot) * headDim + d, src[(int) (vOffset + row)]);
                }
            }
        }
    }

    /**
     * attention: grid (tokens, heads), ATTENTION_WARPS warps of 32 lanes. Lockstep warp operations (warp_max,
     * warp_sum, __shfl_sync) are emulated over the 32 lanes' values; the body follows the kernel line by line.
     */
    private static void attention(float[] q, int qOffset, int qStride, KvCacheLayer cache, int[] pages, float[] out,
                                  int outOffset, int heads, int kvHeads, int headDim, int startPosition, int window,
                                  float scale, int tokens) {
        Launch l = Launch.attention(tokens, heads, headDim);
        int warps = l.blockX() / Launch.WARP;
        MemorySegment keys = cache.keys(), values = cache.values();
        for (int t = 0; t < l.gridX(); t++) {
            for (int h = 0; h < l.gridY(); h++) {
                int kv = h / (heads / kvHeads);
                int position = startPosition + t;
                int first = window > 0 ? Math.max(0, position - window + 1) : 0;
                float[] query = new float[headDim];
                System.arraycopy(q, qOffset + t * qStride + h * headDim, query, 0, headDim);
                float[] warpM = new float[warps], warpL = new float[warps];
                float[][] warpAcc = new float[warps][headDim];
                for (int warp = 0; warp < warps; warp++) {
                    float m = Float.NEGATIVE_INFINITY, lsum = 0;
                    float[] acc = new float[headDim]; // lane j's acc[jj] is dimension lane + 32·jj
                    for (int p = (first >> 5) + warp; p <= (position >> 5); p += warps) {
                        long head = (long) pages[p] * kvHeads + kv;
                        float[] score = new float[Launch.WARP];
                        boolean[] visible = new boolean[Launch.WARP];
                        float pageMax = Float.NEGATIVE_INFINITY;
                        for (int lane = 0; lane < Launch.WARP; lane++) {
                            int slotPosition = p * PAGE + lane;
                            float s = 0;
                            for (int d = 0; d < headDim; d++) {
                                s += query[d] * keys.getAtIndex(ValueLayout.JAVA_FLOAT, (head * headDim + d) * PAGE + lane);
                            }
                            visible[lane] = slotPosition >= first && slotPosition <= position;
                            score[lane] = visible[lane] ? s * scale : Float.NEGATIVE_INFINITY;
                            pageMax = Math.max(pageMax, score[lane]);
                        }
                        float mNew = Math.max(m, pageMax);
                        float correction = (float) Math.exp(m - mNew);
                        float[] weight = new float[Launch.WARP];
                        float weights = 0;
                        for (int lane = 0; lane < Launch.WARP; lane++) {
                            weight[lane] = visible[lane] ? (float) Math.exp(score[lane] - mNew) : 0f;
                            weights += weight[lane];
                        }
                        lsum = lsum * correction + weights;
                        for (int d = 0; d < headDim; d++) {
                            acc[d] *= correction;
                        }
                        for (int s = 0; s < PAGE; s++) {
                            if (weight[s] == 0f) {
                                continue;
                            }
                            long row = (head * PAGE + s) * headDim;
                            for (int d = 0; d < headDim; d++) {
                                acc[d] += weight[s] * values.getAtIndex(ValueLayout.JAVA_FLOAT, row + d);
                            }
                        }
                        m = mNew;
                    }
                    warpM[warp] = m;
                    warpL[warp] = lsum;
                    warpAcc[warp] = acc;
                }
                float totalM = Float.NEGATIVE_INFINITY;
                for (int w = 0; w < warps; w++) {
                    totalM = Math.max(totalM, warpM[w]);
                }
                float totalL = 0;
                for (int w = 0; w < warps; w++) {
                    if (warpM[w] != Float.NEGATIVE_INFINITY) {
                        totalL += (float) Math.exp(warpM[w] - totalM) * warpL[w];
                    }
                }
                int dst = outOffset + (t * heads + h) * headDim;
                for (int d = 0; d < headDim; d++) {
                    float sum = 0;
                    for (int w = 0; w < warps; w++) {
                        if (warpM[w] != Float.NEGATIVE_INFINITY) {
                            sum += (float) Math.exp(warpM[w] - totalM) * warpAcc[w][d];
                        }
                    }
                    out[dst + d] = sum / totalL;
                }
            }
        }
    }
}
