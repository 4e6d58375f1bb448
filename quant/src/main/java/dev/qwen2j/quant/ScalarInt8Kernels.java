package dev.qwen2j.quant;

import dev.qwen2j.core.safetensors.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Plain Java loops: the oracle the vector int8 kernels are tested against, and the fallback without the Vector API. */
final class ScalarInt8Kernels implements Int8Kernels {

    @Override
    public void matvecF32(Int8Matrix w, int rowFrom, int rowTo, float[] x, float[] y, int yColumn, float[] bias) {
        matvecRows(w, rowFrom, rowTo, x, y, yColumn, bias);
    }

    /** The plain formula in either layout: also the vector kernels' path for rows outside whole tiles. */
    static void matvecRows(Int8Matrix w, int rowFrom, int rowTo, float[] x, float[] y, int yColumn, float[] bias) {
        MemorySegment data = w.weights();
        int group = w.groupSize();
        long step = w.tiled() ? Int8Matrix.TILE_ROWS : 1;
        for (int r = rowFrom; r < rowTo; r++) {
            long base = w.offset(r, 0);
            float sum = 0f;
            for (int g = 0; g < w.groups(); g++) {
                float groupSum = 0f;
                for (int k = g * group; k < (g + 1) * group; k++) {
                    groupSum += data.get(ValueLayout.JAVA_BYTE, base + k * step) * x[k];
                }
                sum += groupSum * w.scale(r, g);
            }
            y[yColumn + r] = bias == null ? sum : sum + bias[yColumn + r];
        }
    }

    @Override
    public void quantizeRow(float[] row, int group, DType scaleType, float[] scales, int scaleOffset, byte[] out) {
        quantize(row, group, scaleType, scales, scaleOffset, out);
    }

    /** The scalar quantizer, also the vector kernels' path for a group their vectors do not divide. */
    static void quantize(float[] row, int group, DType scaleType, float[] scales, int scaleOffset, byte[] out) {
        for (int k0 = 0, g = 0; k0 < row.length; k0 += group, g++) {
            float scale = Int8Quantizer.groupScale(row, k0, group, scaleType);
            scales[scaleOffset + g] = scale;
            // A zero scale has only zeros: 0/0 is NaN, and (int) NaN is 0.
            for (int k = k0; k < k0 + group; k++) {
                out[k] = Int8Quantizer.roundToInt8(row[k] / scale);
            }
        }
    }

    @Override
    public void dequantize(Int8Matrix w, int row, int k0, int width, float[] out, int offset) {
        w.dequantize(row, k0, width, out, offset);
    }

    @Override
    public void matvecInt8(Int8Matrix w, int rowFrom, int rowTo, Int8Input x, float[] y, int yColumn, float[] bias) {
        MemorySegment data = w.weights();
        int cols = w.cols();
        byte[] q = x.values();
        float[] xScales = x.scales();
        for (int r = rowFrom; r < rowTo; r++) {
            long base = (long) r * cols;
            float sum = 0f;
            for (int b = 0; b < cols / Int8Input.BLOCK; b++) {
                int k0 = b * Int8Input.BLOCK;
                int dot = 0;
                for (int k = k0; k < k0 + Int8Input.BLOCK; k++) {
                    dot += data.get(ValueLayout.JAVA_BYTE, base + k) * q[k];
                }
                sum += dot * (xScales[b] * w.scales()[r * w.groups() + k0 / w.groupSize()]);
            }
            y[yColumn + r] = bias == null ? sum : sum + bias[yColumn + r];
        }
    }
}
