package dev.qwen2j.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.GenerationResult;
import dev.qwen2j.model.Model;
import dev.qwen2j.model.ModelOptions;
import dev.qwen2j.spark.JobSettings;
import dev.qwen2j.spark.Problem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The single-JVM baseline of {@code qwen2j batch}: the same problems, the same per-sample options and seeds, one
 * {@code generate} after another on one model, no Spark. Prints one JSON line (problems, samples, tokens, seconds
 * of loading the model and the loop, problems/s, tokens/s); scripts/spark_vs_loop.sh sets it against the job.
 */
@Command(name = "batch-loop", mixinStandardHelpOptions = true,
        description = "Generate k samples per problem in one loop on one model (the baseline of qwen2j batch).")
public final class BatchLoop implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR", description = "Model folder, or 'demo'.")
    String model;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "Problems, JSONL.")
    Path input;

    @Option(names = "--samples", defaultValue = "1", paramLabel = "K", description = "Samples per problem.")
    int samples;

    @Option(names = "--temperature", paramLabel = "T", description = "Sampling temperature (default: the model's).")
    Double temperature;

    @Option(names = "--max-tokens", defaultValue = "" + GenerationOptions.DEFAULT_MAX_TOKENS, paramLabel = "N",
            description = "Most tokens per sample.")
    int maxTokens;

    @Option(names = "--thinking-budget", defaultValue = "0", paramLabel = "N", description = "Most tokens of reasoning.")
    int thinkingBudget;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Base seed, as qwen2j batch's.")
    long seed;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "Worker threads of the model.")
    int threads;

    public static void main(String[] args) {
        System.exit(new CommandLine(new BatchLoop()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        // the options qwen2j batch gives each sample: the same seeds from (seed, problem id, sample index)
        JobSettings settings = new JobSettings(model, "unused", samples, temperature, null, null, maxTokens,
                thinkingBudget, seed, false, "jsonl", threads, 1);
        // timed from the load on, as the Spark job's generation stage, whose first task loads the model
        long start = System.nanoTime();
        try (Model m = Model.load(ModelPaths.resolve(model), ModelOptions.builder().threads(threads).build())) {
            long problems = 0;
            long generated = 0;
            for (String line : Files.readAllLines(input)) {
                Problem problem = line.isBlank() ? null : Problem.parse(line).problem();
                if (problem == null) {
                    continue; // qwen2j batch rejects it too
                }
                problems++;
                for (int sample = 0; sample < samples; sample++) {
                    GenerationOptions options = settings.generationOptions(problem.id(), sample);
                    GenerationResult r = problem.prompt() != null ? m.generate(problem.prompt(), options, t -> { })
                            : m.chat(problem.chatMessages(), options, t -> { });
                    generated += r.generatedTokens();
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("problems", problems);
            out.put("samples", problems * samples);
            out.put("tokens", generated);
            out.put("seconds", seconds);
            out.put("problems_per_second", problems / seconds);
            out.put("tokens_per_second", generated / seconds);
            System.out.println(new ObjectMapper().writeValueAsString(out));
        }
        return 0;
    }
}
