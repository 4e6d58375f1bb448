package dev.qwen2j.model;

/**
 * The outcome of one generation.
 *
 * @param text                   everything streamed to the listener, concatenated (without the stop string)
 * @param finishReason           why it ended
 * @param promptTokens           tokens fed to the model before the first generated one
 * @param generatedTokens        tokens sampled (an end-of-sequence token counts)
 * @param prefillTokensPerSecond prompt tokens per second of prompt processing
 * @param decodeTokensPerSecond  tokens per second of the decode steps (0 when there were none)
 */
public record GenerationResult(String text, FinishReason finishReason, int promptTokens, int generatedTokens,
                               double prefillTokensPerSecond, double decodeTokensPerSecond) {
}
