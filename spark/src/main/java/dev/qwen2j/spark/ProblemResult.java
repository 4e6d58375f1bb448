package dev.qwen2j.spark;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the summary needs of one finished problem (one line of a partition's ledger file).
 *
 * @param graded          whether the problem had a reference answer
 * @param correct         samples graded correct
 * @param majority        the most frequent extracted answer (a tie goes to the one that reached the count first), or null
 * @param majorityCorrect majority graded against the reference, or null when ungraded
 */
public record ProblemResult(String id, int samples, boolean graded, int correct, String majority,
                            Boolean majorityCorrect, long tokens, double seconds) {

    /** The result of a problem's rows, all of them (before --keep drops any). */
    static ProblemResult of(String id, String reference, List<SampleRow> rows) {
        Map<String, Integer> votes = new HashMap<>();
        String majority = null;
        int best = 0;
        int correct = 0;
        long tokens = 0;
        double seconds = 0;
        for (SampleRow row : rows) {
            if (Boolean.TRUE.equals(row.correct())) {
                correct++;
            }
            tokens += row.tokens();
            seconds += row.seconds();
            if (row.extracted() != null) {
                int count = votes.merge(Grader.normalise(row.extracted()), 1, Integer::sum);
                if (count > best) { // strictly more: a tie keeps the answer that reached it first
                    best = count;
                    majority = row.extracted();
                }
            }
        }
        Boolean majorityCorrect = reference == null ? null : Grader.grade(majority, reference);
        return new ProblemResult(id, rows.size(), reference != null, correct, majority, majorityCorrect, tokens, seconds);
    }
}
