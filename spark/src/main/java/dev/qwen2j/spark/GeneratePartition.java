package dev.qwen2j.spark;

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
 * The task of one partition: k samples of each problem on this executor's shared model, graded, written as one
 * rows file and one ledger (see {@link PartitionFiles}). Holds only settings; the model stays on the executor.
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
        List<SampleRow> kept = new ArrayList<>();
        List<ProblemResult> results = new ArrayList<>(problems.size());
        for (Problem problem : problems) {
            List<SampleRow> rows = new ArrayList<>(settings.samples());
            for (int sample = 0; sample < settings.samples(); sample++) {
                SampleRow row = generate(model, problem, sample);
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

    private SampleRow generate(Model model, Problem problem, int sample) {
        GenerationOptions options = settings.generationOptions(problem.id(), sample);
        long start = System.nanoTime();
        GenerationResult result = problem.prompt() != null
                ? model.generate(problem.prompt(), options, text -> { })
                : model.chat(problem.chatMessages(), options, text -> { });
        double seconds = (System.nanoTime() - start) / 1e9;
        Trace trace = Trace.split(result.text());
        String extracted = Grader.extract(trace.answer());
        return new SampleRow(problem.id(), sample, trace.reasoning(), trace.answer(), extracted,
                Grader.grade(extracted, problem.answer()), result.generatedTokens(), seconds, options.seed());
    }
}
