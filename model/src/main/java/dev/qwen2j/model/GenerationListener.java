package dev.qwen2j.model;

/**
 * Receives the generated text as it is decoded, piece by piece (whole characters only; a stop string and
 * anything after it never arrive). Called on the generating thread.
 */
@FunctionalInterface
public interface GenerationListener {

    /** Which part of a reasoning model's output a piece belongs to. */
    enum Channel {
        /** The thinking, between the format's thought markers. */
        REASONING,
        /** Everything else: the answer. */
        ANSWER
    }

    /** The next piece of generated text, never empty, exactly as decoded (reasoning markers included). */
    void onText(String text);

    /**
     * The same text split by channel, markers and the line breaks around them left out: every piece of reasoning
     * and answer, in order, after the {@link #onText} call that brought it (a marker split across pieces waits
     * until it is complete).
     */
    default void onChannelText(Channel channel, String text) {
    }

    /**
     * With {@link GenerationOptions.Builder#logprobs(int)} set: each sampled token's log-probabilities, before the
     * text it brings reaches {@link #onText} (tokens a thinking budget inserts, and the end-of-sequence token, have
     * none).
     */
    default void onLogprobs(TokenLogprobs logprobs) {
    }

    /**
     * Polled before each token; returning true ends the generation with {@link FinishReason#CANCELLED} within
     * one token.
     */
    default boolean isCancelled() {
        return false;
    }
}
