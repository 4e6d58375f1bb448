package dev.qwen2j.examples;

import dev.qwen2j.model.GenerationOptions;
import picocli.CommandLine.Option;

/** The sampling options shared by {@code generate} and {@code chat}; unset ones come from the model. */
final class SamplingOptions {

    @Option(names = "--max-tokens", paramLabel = "N",
            description = "Most tokens to generate (default: 512, or what the context leaves).")
    Integer maxTokens;

    @Option(names = "--temperature", paramLabel = "T",
            description = "0 = greedy; default from the model's generation_config.json (greedy when it does not sample).")
    Double temperature;

    @Option(names = "--top-p", paramLabel = "P", description = "Nucleus sampling, in (0, 1].")
    Double topP;

    @Option(names = "--top-k", paramLabel = "K", description = "Keep the K most likely tokens; 0 = off.")
    Integer topK;

    @Option(names = "--min-p", paramLabel = "P", description = "Drop tokens below P × the top probability.")
    Double minP;

    @Option(names = "--repetition-penalty", paramLabel = "R", description = "transformers' repetition penalty; 1 = off.")
    Double repetitionPenalty;

    @Option(names = "--seed", paramLabel = "S", description = "Random seed: the same seed gives the same text.")
    Long seed;

    @Option(names = "--system", paramLabel = "TEXT", description = "A system prompt.")
    String system;

    @Option(names = "--thinking-budget", paramLabel = "N",
            description = "Close the thinking after N tokens and let the model answer.")
    Integer thinkingBudget;

    @Option(names = "--min-thinking", paramLabel = "N",
            description = "Think at least N tokens: an earlier end of thinking becomes \"Wait\".")
    Integer minThinking;

    @Option(names = "--show-thinking", description = "Print the thinking (the default).")
    boolean showThinking;

    @Option(names = "--hide-thinking", description = "Print only the answer, not the thinking.")
    boolean hideThinking;

    /** False when --hide-thinking was given; both flags at once are an error. */
    boolean thinkingShown() {
        if (showThinking && hideThinking) {
            throw new IllegalArgumentException("--show-thinking and --hide-thinking exclude each other");
        }
        return !hideThinking;
    }

    /** {@code b} built; a minimum thinking above the budget fails naming both flags. */
    GenerationOptions build(GenerationOptions.Builder b) {
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--min-thinking / --thinking-budget: " + e.getMessage(), e);
        }
    }

    /** The options as a builder; a bad value fails naming its command-line flag. */
    GenerationOptions.Builder toBuilder() {
        GenerationOptions.Builder b = GenerationOptions.builder();
        if (maxTokens != null) {
            flag("--max-tokens", () -> b.maxTokens(maxTokens));
        }
        if (temperature != null) {
            flag("--temperature", () -> b.temperature(temperature));
        }
        if (topP != null) {
            flag("--top-p", () -> b.topP(topP));
        }
        if (topK != null) {
            flag("--top-k", () -> b.topK(topK));
        }
        if (minP != null) {
            flag("--min-p", () -> b.minP(minP));
        }
        if (repetitionPenalty != null) {
            flag("--repetition-penalty", () -> b.repetitionPenalty(repetitionPenalty));
        }
        if (seed != null) {
            b.seed(seed);
        }
        if (thinkingBudget != null) {
            flag("--thinking-budget", () -> b.maxThinkingTokens(thinkingBudget));
        }
        if (minThinking != null) {
            flag("--min-thinking", () -> b.minThinkingTokens(minThinking));
        }
        b.systemPrompt(system);
        return b;
    }

    private static void flag(String flag, Runnable set) {
        try {
            set.run();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
        }
    }
}
