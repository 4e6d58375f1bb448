package dev.qwen2j.model;

import java.util.List;

/**
 * A sampled token's log-probability under the model and the most likely tokens at its position, for
 * {@link GenerationOptions.Builder#logprobs(int)}.
 *
 * @param sampled the token sampled
 * @param top     the most likely tokens there, most likely first (the sampled one among them when it is)
 */
public record TokenLogprobs(Entry sampled, List<Entry> top) {

    /**
     * One token.
     *
     * @param id      its id
     * @param token   its text (U+FFFD where it holds only part of a character)
     * @param bytes   the bytes it stands for
     * @param logprob its natural-log probability
     */
    public record Entry(int id, String token, byte[] bytes, float logprob) {
    }
}
