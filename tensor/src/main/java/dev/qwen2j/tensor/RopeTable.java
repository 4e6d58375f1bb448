package dev.qwen2j.tensor;

/**
 * Rotary position embedding frequencies: {@code invFreq[i]} for i &lt; headDim/2, already adjusted for any
 * scaling (linear, dynamic, YaRN), and the factor YaRN applies to cos and sin ({@code 1} otherwise).
 * The angle of position p and pair i is {@code (float) p · invFreq[i]}, in F32 as transformers computes it.
 */
public record RopeTable(float[] invFreq, float attentionScaling) {

    public RopeTable {
        if (invFreq.length == 0) {
            throw new IllegalArgumentException("RoPE needs at least one frequency");
        }
    }

    /** The head size this table rotates. */
    public int headDim() {
        return invFreq.length * 2;
    }
}
