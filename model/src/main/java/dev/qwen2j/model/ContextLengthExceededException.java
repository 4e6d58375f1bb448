package dev.qwen2j.model;

/**
 * The prompt plus the tokens to generate do not fit in the context the model was loaded with. Raised before any
 * work is done; load the model with a larger {@link ModelOptions#contextLength()} or ask for fewer tokens.
 */
public final class ContextLengthExceededException extends IllegalArgumentException {

    private final int requiredTokens;
    private final int contextLength;

    public ContextLengthExceededException(int promptTokens, int maxTokens, int contextLength) {
        super("prompt (" + promptTokens + " tokens) + maxTokens (" + maxTokens + ") = " + ((long) promptTokens + maxTokens)
                + " tokens exceeds the context length of " + contextLength);
        this.requiredTokens = (int) Math.min(Integer.MAX_VALUE, (long) promptTokens + maxTokens);
        this.contextLength = contextLength;
    }

    /** Prompt tokens plus the tokens requested. */
    public int requiredTokens() {
        return requiredTokens;
    }

    /** The positions a session holds. */
    public int contextLength() {
        return contextLength;
    }
}
