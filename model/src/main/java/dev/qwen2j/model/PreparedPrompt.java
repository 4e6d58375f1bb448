package dev.qwen2j.model;

/**
 * A prompt tokenized and checked against the context, with the per-sequence settings its options give (stop
 * tokens, thinking control), ready for a {@link ContinuousBatch} to admit without any work on the decoding thread.
 * From {@link Model#prepare}; immutable.
 */
public final class PreparedPrompt {

    final Model model;
    final int[] tokens;
    final int maxTokens;
    final GenerationOptions options;
    final int[] stopIds;
    final ThinkingControl thinking;

    PreparedPrompt(Model model, int[] tokens, int maxTokens, GenerationOptions options, int[] stopIds,
                   ThinkingControl thinking) {
        this.model = model;
        this.tokens = tokens;
        this.maxTokens = maxTokens;
        this.options = options;
        this.stopIds = stopIds;
        this.thinking = thinking;
    }

    /** Tokens of the prompt. */
    public int promptTokens() {
        return tokens.length;
    }

    /** Tokens each sample may generate at most: the options' limit, or what the context leaves. */
    public int maxTokens() {
        return maxTokens;
    }

    /** The options it was prepared with. */
    public GenerationOptions options() {
        return options;
    }

    /** Positions one sample holds at most: prompt plus generated tokens. */
    int capacity() {
        return tokens.length + maxTokens;
    }
}
