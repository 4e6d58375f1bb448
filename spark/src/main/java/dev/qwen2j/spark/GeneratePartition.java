package dev.qwen2j.spark;

import dev.qwen2j.model.BatchRequest;
import dev.qwen2j.model.FinishReason;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.GenerationResult;
import dev.qwen2j.model.Model;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.function.VoidFunction;
import org.apache.spark.util.LongAccumulator;

/**
 * The task of one partition: k samples of each problem on this executor's shared model, all of the partition's
 * samples decoded together by the model's batch engine ({@link Model#generateAll(List, int)}), graded, written as
 * one rows file and one ledger (see {@link PartitionFiles}). Holds only settings; the model stays on the executor.
 */
final class GeneratePartition implements VoidFunction<Iterator<Problem>> {

    private final JobSettings settings;
    private final LongAccumulator tokens;

    GeneratePartition(JobSettings settings, LongAccumulator tokens) {
        this.settings = settings;
        this.tokens = tokens;
    }

    @Override
    public void call(Iterator<Problem> partition) throws Exception {
        List<Problem> problems = new ArrayList<>();
        partition.forEachRemaining(problems::add);
        if (problems.isEmpty()) {
            return;
        }
        PartitionFiles files = new PartitionFiles(settings.output(), settings.format(), new Configuration());
        String key = settings.partitionKey(problems.stream().map(Problem::id).toList());
        if (files.isDone(key)) {
            return; // a retry (or a speculative copy) of a task that already finished
        }
        Model model = ExecutorModels.get(settings.modelPath(), settings.modelThreads());
        List<BatchRequest> requests = new ArrayList<>(problems.size() * settings.samples());
        for (Problem problem : problems) {
            for (int sample = 0; sample < settings.samples(); sample++) {
                GenerationOptions options = settings.generationOptions(problem.id(), sample);
                requests.add(problem.prompt() != null ? BatchRequest.of(problem.prompt(), options)
                        : BatchRequest.chat(problem.chatMessages(), options));
            }
        }
        // every sample of the partition through the batch engine, batchSize at a time, each with its own seed
        List<GenerationResult> generated = model.generateAll(requests, settings.batchSize());
        List<SampleRow> kept = new ArrayList<>();
        List<ProblemResult> results = new ArrayList<>(problems.size());
        for (int p = 0; p < problems.size(); p++) {
            Problem problem = problems.get(p);
            List<SampleRow> rows = new ArrayList<>(settings.samples());
            for (int sample = 0; sample < settings.samples(); sample++) {
                int i = p * settings.samples() + sample;
                SampleRow row = row(problem, sample, requests.get(i).options().seed(), generated.get(i));
                rows.add(row);
                tokens.add(row.tokens());
                if (!settings.keepCorrectOnly() || Boolean.TRUE.equals(row.correct())) {
                    kept.add(row);
                }
            }
            results.add(ProblemResult.of(problem.id(), problem.answer(), rows));
        }
        files.write(key, kept, results);
    }

    private static SampleRow row(Problem problem, int sample, long seed, GenerationResult result) {
        if (result.finishReason() == FinishReason.CANCELLED) {
            // Spark interrupts a task it kills: its cut-off samples must not be written as finished
            throw new IllegalStateException("task cancelled while generating " + problem.id() + " on executor "
                    + ExecutorModels.executor());
        }
        Trace trace = Trace.split(result.text());
        String extracted = Grader.extract(trace.answer());
        return new SampleRow(problem.id(), sample, trace.reasoning(), trace.answer(), extracted,
                Grader.grade(extracted, problem.answer()), result.generatedTokens(), result.seconds(), seed);
    }
}
