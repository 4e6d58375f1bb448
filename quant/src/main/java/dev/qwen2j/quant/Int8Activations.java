package dev.qwen2j.quant;

/**
 * What the int8 decode kernels multiply the int8 weights with: the F32 activations as they are, or the activations
 * quantized to int8 once per token (blocks of {@value Int8Input#BLOCK}, one F32 scale each) and reused by every part of
 * a fused map. Chosen with {@code -Dqwen2j.int8.activations=f32|int8}; the default is the one measured faster at
 * each width, on the 0.5B shape with 2 threads:
 * <ul>
 * <li>below 512 bits, int8 × int8 (16-bit products, about half the instructions per weight): 1.17× int8 × F32 on
 *     an AVX2 Zen 3 (18.2 against 15.5 tok/s, same run);</li>
 * <li>at 512 bits, int8 × F32: 1.7–1.8× int8 × int8 on an AVX-512 Zen 5 (48.8 and 46.6 against 27.5 tok/s,
 *     same run), where int8 × F32 reaches ~80% of the read bandwidth. The 16-bit multiplies and pair-sum shifts
 *     cost more than the F32 widening there (forced to 256 bits on the same machine: 21.0 against 31.4).</li>
 * </ul>
 * int8 × int8 costs a measured mean KL against bf16 of 4e-6 instead of 2e-6 nats (Int8QualityTest). This applies to
 * row-major matrices: a {@linkplain Int8Matrix#tiled() tiled} one always multiplies the F32 input.
 */
public enum Int8Activations {
    F32, INT8;

    /** The system property that chooses. */
    public static final String PROPERTY = "qwen2j.int8.activations";

    /** The choice of {@link #PROPERTY}, else the faster at {@code vectorBits}: {@link #F32} at 512 bits, {@link #INT8} below. */
    static Int8Activations requested(int vectorBits) {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return vectorBits >= 512 ? F32 : INT8;
        }
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "f32" -> F32;
            case "int8" -> INT8;
            default -> throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + ": expected f32 or int8");
        };
    }
}
