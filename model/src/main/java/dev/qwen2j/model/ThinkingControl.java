package dev.qwen2j.model;

import dev.qwen2j.core.chat.ReasoningFormat;
import dev.qwen2j.core.tokenizer.Tokenizer;

/**
 * How one request treats the thinking: which markers split it from the answer, whether the prompt already opened
 * it, and the budget (s1's budget forcing): the tokens that close a thought that reached {@code maxTokens}, and
 * those that replace an end of thinking before {@code minTokens}. Immutable, shared by every sample of a request.
 *
 * @param format            the markers
 * @param startsInThought   the prompt ended inside an opened thought
 * @param maxTokens         thinking tokens after which the thought is closed; 0 = no limit
 * @param minTokens         thinking tokens before which an end of thinking is replaced; 0 = off
 * @param endOfThinking     the token that begins {@code format.thoughtEnd()} as the tokenizer writes it (-1: none)
 * @param closeTokens       {@code thoughtEnd + transition}, encoded
 * @param continuationTokens the continuation ("Wait"), encoded
 */
record ThinkingControl(ReasoningFormat format, boolean startsInThought, int maxTokens, int minTokens,
                       int endOfThinking, int[] closeTokens, int[] continuationTokens) {

    static ThinkingControl of(ReasoningFormat format, String prompt, GenerationOptions options, Tokenizer tokenizer) {
        boolean opens = format.promptOpensThought(prompt);
        int max = options.maxThinkingTokens() == null ? 0 : options.maxThinkingTokens();
        int min = options.minThinkingTokens();
        if (!format.marksThinking()) {
            return new ThinkingControl(format, false, 0, 0, -1, new int[0], new int[0]);
        }
        int[] end = tokenizer.encode(format.thoughtEnd());
        int[] close = tokenizer.encode(format.thoughtEnd() + format.transition());
        int[] continuation = tokenizer.encode(format.continuation());
        if (min > 0 && continuation.length == 0) {
            throw new IllegalArgumentException("minThinkingTokens: the reasoning format " + format.name()
                    + " has no continuation text to replace an early end of thinking with");
        }
        return new ThinkingControl(format, opens, max, min, end.length == 0 ? -1 : end[0], close, continuation);
    }
}
