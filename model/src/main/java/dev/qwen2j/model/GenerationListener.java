package dev.qwen2j.model;

/**
 * Receives the generated text as it is decoded, piece by piece (whole characters only; a stop string and
 * anything after it never arrive). Called on the generating thread.
 */
@FunctionalInterface
public interface GenerationListener {

    /** The next piece of generated text, never empty. */
    void onText(String text);

    /**
     * Polled before each token; returning true ends the generation with {@link FinishReason#CANCELLED} within
     * one token.
     */
    default boolean isCancelled() {
        return false;
    }
}
