package dev.qwen2j.tensor;

/**
 * The SIMD widths the Vector API kernels can be built for, and the user's choice among them. This class names
 * no Vector API type, so it is safe to use where {@code jdk.incubator.vector} is missing.
 *
 * <p>By default the kernels run at the platform's preferred width (512 bits with AVX-512, 256 with AVX2, 128 on
 * NEON). {@code -Dqwen2j.vector.bits=128|256|512} forces one; a width wider than the hardware's runs correctly
 * but emulated, many times slower.
 */
public final class VectorBits {

    /** The system property that forces a width. */
    public static final String PROPERTY = "qwen2j.vector.bits";
    /** Every width the kernels are built and tested for. */
    public static final int[] SUPPORTED = {128, 256, 512};
    /** "Use the platform's preferred width (or the one {@link #PROPERTY} forces)." */
    public static final int DEFAULT = 0;

    private VectorBits() {
    }

    /** The width {@link #PROPERTY} forces, or {@link #DEFAULT} when it is unset; an impossible value throws. */
    public static int requested() {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return DEFAULT;
        }
        try {
            return check(Integer.parseInt(value.trim()), "-D" + PROPERTY);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(invalid("-D" + PROPERTY, value));
        }
    }

    /** {@code bits} itself when it is {@link #DEFAULT} or one of {@link #SUPPORTED}; otherwise an error naming {@code source}. */
    public static int check(int bits, String source) {
        if (bits == DEFAULT) {
            return bits;
        }
        for (int supported : SUPPORTED) {
            if (bits == supported) {
                return bits;
            }
        }
        throw new IllegalArgumentException(invalid(source, Integer.toString(bits)));
    }

    private static String invalid(String source, String value) {
        return source + "=" + value + ": the vector width must be 128, 256 or 512 bits";
    }
}
