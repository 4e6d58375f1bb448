package dev.qwen2j.quant;

/**
 * What the int8 decode kernels multiply the int8 weights with: the F32 activations as they are, or the activations
 * quantized to int8 once per token (blocks of {@value Int8Input#BLOCK}, one F32 scale each) and reused by every part of
 * a fused map. Chosen with {@code -Dqwen2j.int8.activations=f32|int8}; the default is the one measured faster.
 */
public enum Int8Activations {
    F32, INT8;

    /** The system property that chooses. */
    public static final String PROPERTY = "qwen2j.int8.activations";

    /** The choice of {@link #PROPERTY}, else {@link #F32}. */
    static Int8Activations requested() {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return F32;
        }
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "f32" -> F32;
            case "int8" -> INT8;
            default -> throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + ": expected f32 or int8");
        };
    }
}
