package dev.qwen2j.core.chat;

import java.time.Duration;

/**
 * The sandbox's bounds for one rendering; a template that passes one fails with a {@link ChatTemplateException}
 * saying which, never with a truncated or empty prompt. The defaults are far above what any real chat template
 * needs (the largest prompts are a few million characters) and far below what would exhaust the JVM.
 *
 * @param maxOutputChars the longest rendering, and the longest string or list built on the way
 * @param maxDepth       how deeply macro calls and recursive loops may nest
 * @param maxIterations  loop iterations plus macro calls in one rendering
 * @param timeLimit      wall-clock time for one rendering
 */
public record TemplateLimits(int maxOutputChars, int maxDepth, long maxIterations, Duration timeLimit) {

    public static final TemplateLimits DEFAULT = new TemplateLimits(32 << 20, 100, 10_000_000, Duration.ofSeconds(10));

    public TemplateLimits {
        if (maxOutputChars <= 0 || maxDepth <= 0 || maxIterations <= 0 || timeLimit.isNegative() || timeLimit.isZero()) {
            throw new IllegalArgumentException("template limits must be positive: " + maxOutputChars + ", "
                    + maxDepth + ", " + maxIterations + ", " + timeLimit);
        }
    }
}
