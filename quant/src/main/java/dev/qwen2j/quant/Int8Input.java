package dev.qwen2j.quant;

/**
 * One token's input to the int8 decode kernels: the F32 activations, and when int8 × int8 is chosen and the row splits
 * into whole blocks, the same quantized symmetrically to int8 per block of {@value #BLOCK} ({@code q = round(x / s)},
 * {@code s = max|x| / 127}). One instance per calling thread, grown as needed and reused.
 */
public final class Int8Input {

    /** Activations per scale. Weight groups that are multiples of it combine with it exactly. */
    public static final int BLOCK = 32;

    private float[] x;
    private int cols;
    private byte[] values = new byte[0];
    private short[] wideValues = new short[0];
    private float[] scales = new float[0];
    private boolean quantized;

    /** Holds {@code x[0 .. cols)}; quantizes it when {@code quantize} and {@code cols} is a multiple of {@link #BLOCK}. */
    public Int8Input set(float[] x, int cols, boolean quantize) {
        this.x = x;
        this.cols = cols;
        this.quantized = quantize && cols % BLOCK == 0;
        if (quantized) {
            if (values.length < cols) {
                values = new byte[cols];
                wideValues = new short[cols];
                scales = new float[cols / BLOCK];
            }
            for (int b = 0; b < cols / BLOCK; b++) {
                int k0 = b * BLOCK;
                float max = 0f;
                for (int k = k0; k < k0 + BLOCK; k++) {
                    max = Math.max(max, Math.abs(x[k]));
                }
                float scale = max / 127f;
                float inverse = scale == 0f ? 0f : 1f / scale;
                scales[b] = scale;
                for (int k = k0; k < k0 + BLOCK; k++) {
                    values[k] = (byte) Math.rint(x[k] * inverse);
                    wideValues[k] = values[k];
                }
            }
        }
        return this;
    }

    public float[] x() {
        return x;
    }

    public int cols() {
        return cols;
    }

    /** Whether {@link #values()} and {@link #scales()} hold this input. */
    public boolean quantized() {
        return quantized;
    }

    /** The int8 activations, {@link #cols()} of them. */
    public byte[] values() {
        return values;
    }

    /** The same widened to 16 bits, as the vector kernels multiply them. */
    public short[] wideValues() {
        return wideValues;
    }

    /** One scale per block of {@link #BLOCK}. */
    public float[] scales() {
        return scales;
    }
}
