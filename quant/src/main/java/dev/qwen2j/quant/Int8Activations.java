package dev.qwen2j.quant;

/**
 * What the int8 decode kernels multiply the int8 weights with: the F32 activations as they are, or the activations
 * quantized to int8 once per token (blocks of {@value Int8Input#BLOCK}, one F32 scale each) and reused by every part of
 * a fused map. Chosen with {@code -Dqwen2j.int8.activations=f32|int8}; the default is the one measured faster:
 * int8 × int8 (16-bit products, about half the instructions per weight) decoded the 0.5B shape 1.17× faster than
 * int8 × F32 on an AVX2 machine (18.2 against 15.5 tok/s, same run), at a measured cost in mean KL against bf16 of
 * 4e-6 instead of 2e-6 nats (Int8QualityTest).
 */
public enum Int8Activations {
    F32, INT8;

    /** The system property that chooses. */
    public static final String PROPERTY = "qwen2j.int8.activations";

    /** The choice of {@link #PROPERTY}, else {@link #INT8}. */
    static Int8Activations requested() {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return INT8;
        }
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "f32" -> F32;
            case "int8" -> INT8;
            default -> throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + ": expected f32 or int8");
        };
    }
}
