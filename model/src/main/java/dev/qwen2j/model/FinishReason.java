package dev.qwen2j.model;

/** Why a generation ended. */
public enum FinishReason {
    /** The model produced an end-of-sequence (or other stop) token id. */
    EOS,
    /** The text reached one of the stop strings (which is not part of the result). */
    STOP,
    /** {@link GenerationOptions#maxTokens()} tokens were generated. */
    LENGTH,
    /** The listener asked to stop ({@link GenerationListener#isCancelled()}). */
    CANCELLED
}
