package dev.qwen2j.model;

/**
 * The outcome of one generation.
 *
 * @param text                   everything streamed to the listener's {@link GenerationListener#onText(String)},
 *                               concatenated (markers included, without the stop string)
 * @param finishReason           why it ended
 * @param promptTokens           tokens fed to the model before the first generated one
 * @param generatedTokens        tokens generated (an end-of-sequence token counts, and so do the tokens a thinking
 *                               budget inserted)
 * @param prefillTokensPerSecond prompt tokens per second of prompt processing
 * @param decodeTokensPerSecond  tokens per second of the decode steps (0 when there were none)
 * @param reasoning              the thinking, without its markers ("" for a model that does not think)
 * @param answer                 the rest: the answer, without markers (all of the text for a model that does not think)
 * @param thinkingTokens         tokens generated inside the thinking
 * @param seconds                time this generation computed: its prefill and its decode steps (in a batch, the
 *                               steps it shared with others; not the wait for its turn)
 * @param cachedTokens           prompt tokens whose keys and values came from the prefix cache of a
 *                               {@link ContinuousBatch} instead of being prefilled (0 elsewhere)
 */
public record GenerationResult(String text, FinishReason finishReason, int promptTokens, int generatedTokens,
                               double prefillTokensPerSecond, double decodeTokensPerSecond,
                               String reasoning, String answer, int thinkingTokens, double seconds,
                               int cachedTokens) {

    /** A result whose prompt was prefilled whole. */
    public GenerationResult(String text, FinishReason finishReason, int promptTokens, int generatedTokens,
                            double prefillTokensPerSecond, double decodeTokensPerSecond,
                            String reasoning, String answer, int thinkingTokens, double seconds) {
        this(text, finishReason, promptTokens, generatedTokens, prefillTokensPerSecond, decodeTokensPerSecond,
                reasoning, answer, thinkingTokens, seconds, 0);
    }

    /** A result without reasoning: all of {@code text} is the answer; no time measured. */
    public GenerationResult(String text, FinishReason finishReason, int promptTokens, int generatedTokens,
                            double prefillTokensPerSecond, double decodeTokensPerSecond) {
        this(text, finishReason, promptTokens, generatedTokens, prefillTokensPerSecond, decodeTokensPerSecond,
                "", text.strip(), 0, 0);
    }
}
