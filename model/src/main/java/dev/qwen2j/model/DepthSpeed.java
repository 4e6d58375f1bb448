package dev.qwen2j.model;

/**
 * Speed at depth, from {@link Model#decodeSpeedAfter}: how fast a context of {@code contextTokens} prefilled, and
 * how fast each run decoded after it.
 *
 * @param contextTokens         tokens of context before the decoded ones
 * @param prefillTokensPerSecond the context's prefill, once
 * @param decodeTokensPerSecond  each run's decode speed (prefill excluded)
 */
public record DepthSpeed(int contextTokens, double prefillTokensPerSecond, double[] decodeTokensPerSecond) {
}
