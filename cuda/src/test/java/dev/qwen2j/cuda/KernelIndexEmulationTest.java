package dev.qwen2j.cuda;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The kernels' grid/block index arithmetic, emulated on the CPU thread by thread with the launch geometry
 * {@link Launch} gives, against the plain math, for odd sizes: a row, column, position or dimension that two
 * threads share or none covers shows up here without a GPU. (Numerics on hardware: the device tests.)
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
            Launch l = Launch.matvec(rows);
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

    private float[] floats(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = random.nextFloat() * 2 - 1;
        }
        return v;
    }
}
