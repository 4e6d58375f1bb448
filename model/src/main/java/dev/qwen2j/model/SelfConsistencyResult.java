package dev.qwen2j.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The outcome of self-consistency: several samples of one prompt, each one's extracted answer, and the majority.
 *
 * @param answer       the answer most samples gave; a tie goes to the answer given first (lowest sample index);
 *                     null when no sample gave one
 * @param votes        how many samples gave {@code answer}
 * @param agreement    {@code votes / samples.size()}
 * @param samples      every sample, in order (sample i sampled with seed {@code seed + i})
 * @param answers      the answer extracted from each sample (null where none was found), in the same order
 * @param kvCacheBytes bytes of KV cache all samples held together at most
 */
public record SelfConsistencyResult(String answer, int votes, double agreement, List<GenerationResult> samples,
                                    List<String> answers, long kvCacheBytes) {

    public SelfConsistencyResult {
        samples = List.copyOf(samples);
        answers = Collections.unmodifiableList(new ArrayList<>(answers));
    }

    /** Extracts each sample's answer from its {@link GenerationResult#answer()} and takes the majority. */
    public static SelfConsistencyResult vote(List<GenerationResult> samples, AnswerExtractor extractor,
                                             long kvCacheBytes) {
        List<String> answers = new ArrayList<>(samples.size());
        Map<String, Integer> counts = new HashMap<>();
        for (GenerationResult sample : samples) {
            String a = extractor.extract(sample.answer());
            answers.add(a);
            if (a != null) {
                counts.merge(a, 1, Integer::sum);
            }
        }
        String best = null;
        int bestVotes = 0;
        for (String a : answers) { // in sample order, strictly more: a tie goes to the answer given first
            if (a != null && counts.get(a) > bestVotes) {
                best = a;
                bestVotes = counts.get(a);
            }
        }
        double agreement = samples.isEmpty() ? 0 : (double) bestVotes / samples.size();
        return new SelfConsistencyResult(best, bestVotes, agreement, samples, answers, kvCacheBytes);
    }
}
