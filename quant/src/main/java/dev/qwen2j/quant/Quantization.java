package dev.qwen2j.quant;

/**
 * How to quantize a model's linear maps to int8 when it is loaded or written: symmetric int8 weights, one scale per
 * group of {@code groupSize} consecutive inputs of a row ({@link #CHANNEL}: one scale per row). Norms, biases and the
 * embedding lookup stay float.
 *
 * @param groupSize inputs per scale, or {@link #CHANNEL}; it must divide every row it meets
 * @param lmHead    also quantize the lm_head; for a tied model that is an int8 copy of the embedding matrix (the
 *                  lookup keeps reading the float table), a third of a 0.5B model's decode bytes
 */
public record Quantization(int groupSize, boolean lmHead) {

    /** One scale per output row (compressed-tensors' {@code channel} strategy). */
    public static final int CHANNEL = 0;
    /** The default group size: fine-grained, like llama.cpp's Q8_0 blocks. */
    public static final int DEFAULT_GROUP_SIZE = 32;
    /** int8, groups of 32, lm_head included. */
    public static final Quantization INT8 = new Quantization(DEFAULT_GROUP_SIZE, true);

    public Quantization {
        if (groupSize < 0) {
            throw new IllegalArgumentException("groupSize must be positive or CHANNEL (0), got " + groupSize);
        }
    }

    /** int8 with {@code groupSize} inputs per scale ({@link #CHANNEL}: per row), lm_head included. */
    public static Quantization int8(int groupSize) {
        return new Quantization(groupSize, true);
    }

    /** The same with or without the lm_head. */
    public Quantization withLmHead(boolean quantizeLmHead) {
        return new Quantization(groupSize, quantizeLmHead);
    }

    /** The group size for a row of {@code cols} inputs: {@code cols} for {@link #CHANNEL}. */
    public int groupSizeFor(int cols) {
        return groupSize == CHANNEL ? cols : groupSize;
    }

    /** {@code channel} or {@code group-32}, for logs and benchmark output. */
    public String describe() {
        return "int8 " + (groupSize == CHANNEL ? "channel" : "group-" + groupSize) + (lmHead ? "" : ", float lm_head");
    }
}
