package dev.qwen2j.spark;

/**
 * One output row: sample {@code sample} of problem {@code id}.
 *
 * @param reasoning  the text inside the think tags
 * @param answerText the text after them
 * @param extracted  the final answer found in answerText, or null
 * @param correct    extracted graded against the reference, or null when the problem has none
 * @param tokens     tokens generated
 * @param seconds    time its generation computed: its prefill and its decode steps, shared with the batch
 * @param seed       the sample's seed: {@code Model.generateAll} reproduces the sample from it in any batch
 */
public record SampleRow(String id, int sample, String reasoning, String answerText, String extracted, Boolean correct,
                        int tokens, double seconds, long seed) {
}
