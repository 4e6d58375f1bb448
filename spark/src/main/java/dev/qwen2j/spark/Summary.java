package dev.qwen2j.spark;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/**
 * The job's summary, printed and written as {@code summary.json}. The rates count only problems with a reference
 * answer (null when there are none).
 *
 * @param problems         problems finished in the output folder (this run and the runs it resumed)
 * @param samples          samples generated for them
 * @param passAt1          mean over problems of correct samples / samples
 * @param passAtK          share of problems with at least one correct sample
 * @param majorityAccuracy share of problems whose majority answer is correct
 * @param rejectedRows     input rows rejected by this run (see rejects/)
 * @param tokensPerSecond  tokens this run generated / wall seconds of its generation stage (0 if it had none)
 */
@JsonPropertyOrder({"problems", "samples", "pass_at_1", "pass_at_k", "majority_accuracy", "rejected_rows",
        "tokens_per_second"})
public record Summary(@JsonProperty("problems") long problems,
                      @JsonProperty("samples") long samples,
                      @JsonProperty("pass_at_1") Double passAt1,
                      @JsonProperty("pass_at_k") Double passAtK,
                      @JsonProperty("majority_accuracy") Double majorityAccuracy,
                      @JsonProperty("rejected_rows") long rejectedRows,
                      @JsonProperty("tokens_per_second") double tokensPerSecond) {

    static Summary of(List<ProblemResult> results, long rejectedRows, long tokens, double seconds) {
        long samples = 0;
        int graded = 0;
        double passAt1 = 0;
        int passAtK = 0;
        int majority = 0;
        for (ProblemResult r : results) {
            samples += r.samples();
            if (r.graded()) {
                graded++;
                passAt1 += (double) r.correct() / r.samples();
                passAtK += r.correct() > 0 ? 1 : 0;
                majority += Boolean.TRUE.equals(r.majorityCorrect()) ? 1 : 0;
            }
        }
        return new Summary(results.size(), samples, graded == 0 ? null : passAt1 / graded,
                graded == 0 ? null : (double) passAtK / graded, graded == 0 ? null : (double) majority / graded,
                rejectedRows, seconds > 0 ? tokens / seconds : 0);
    }
}
