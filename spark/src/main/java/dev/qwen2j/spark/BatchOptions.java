package dev.qwen2j.spark;

import dev.qwen2j.model.GenerationOptions;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The flags of the batch job, shared by {@link BatchGenerate} (spark-submit) and the {@code qwen2j batch} command.
 * Plain picocli fields: no Spark type, so the command line can be built without Spark on the classpath.
 */
public final class BatchOptions {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR",
            description = "Model folder, at a path every executor can read ('demo' for the demo model with qwen2j batch).")
    public String model;

    @Option(names = "--input", required = true, paramLabel = "FILE",
            description = "Problems: JSONL (.jsonl/.json) or Parquet (.parquet, or --input-format), one row each "
                    + "with id, prompt or messages, and optionally answer.")
    public String input;

    @Option(names = "--input-format", paramLabel = "jsonl|parquet",
            description = "Input format (default: from the file name; a folder is read as Parquet).")
    public String inputFormat;

    @Option(names = "--output", required = true, paramLabel = "DIR",
            description = "Output folder; a rerun with the same folder resumes.")
    public String output;

    @Option(names = "--samples", defaultValue = "1", paramLabel = "K", description = "Samples per problem (default 1).")
    public int samples;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master, e.g. local[4] (default: spark-submit's, else local[*]).")
    public String master;

    @Option(names = "--partitions", defaultValue = "0", paramLabel = "N",
            description = "Partitions of the problems (default: Spark's default parallelism).")
    public int partitions;

    @Option(names = "--temperature", paramLabel = "T", description = "Sampling temperature (default: the model's).")
    public Double temperature;

    @Option(names = "--top-p", paramLabel = "P", description = "Nucleus sampling (default: the model's).")
    public Double topP;

    @Option(names = "--top-k", paramLabel = "K", description = "Top-k sampling (default: the model's).")
    public Integer topK;

    @Option(names = "--max-tokens", defaultValue = "" + GenerationOptions.DEFAULT_MAX_TOKENS, paramLabel = "N",
            description = "Most tokens per sample (default ${DEFAULT-VALUE}).")
    public int maxTokens;

    @Option(names = "--thinking-budget", defaultValue = "0", paramLabel = "N",
            description = "Most tokens of reasoning (0 = no limit): the thinking is closed after N tokens and the "
                    + "answer still produced, within --max-tokens.")
    public int thinkingBudget;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S",
            description = "Base seed; a sample's seed derives from it, the problem id and the sample index.")
    public long seed;

    @Option(names = "--keep", defaultValue = "all", paramLabel = "correct|all",
            description = "Write every sample (all, default) or only those graded correct.")
    public String keep;

    @Option(names = "--format", defaultValue = "parquet", paramLabel = "parquet|jsonl",
            description = "Format of the output rows (default parquet).")
    public String format;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "Worker threads of each executor's model (default: the model's choice).")
    public int threads;

    @Option(names = "--batch", defaultValue = "16", paramLabel = "N",
            description = "Samples each task decodes together (continuous batching; default ${DEFAULT-VALUE}). "
                    + "Samples do not depend on it; KV memory per task grows with it.")
    public int batch;

    /** The settings the tasks carry, the flags checked; {@code modelPath} replaces --model (the CLI resolves demo). */
    public JobSettings settings(String modelPath) {
        require(samples >= 1 && samples <= 1024, "--samples must be 1..1024, got " + samples);
        require(partitions >= 0, "--partitions must be >= 0, got " + partitions);
        require(maxTokens >= 1, "--max-tokens must be >= 1, got " + maxTokens);
        require(thinkingBudget >= 0, "--thinking-budget must be >= 0, got " + thinkingBudget);
        require(threads >= 0, "--threads must be >= 0, got " + threads);
        require(batch >= 1 && batch <= 4096, "--batch must be 1..4096, got " + batch);
        String keepValue = keep.toLowerCase(Locale.ROOT);
        require(keepValue.equals("all") || keepValue.equals("correct"), "--keep must be correct or all, got '" + keep + "'");
        String formatValue = format.toLowerCase(Locale.ROOT);
        require(formatValue.equals("parquet") || formatValue.equals("jsonl"),
                "--format must be parquet or jsonl, got '" + format + "'");
        // the model's own checks name the bad value; build one sample's options to run them here, on the driver
        JobSettings settings = new JobSettings(modelPath, output, samples, temperature, topP, topK, maxTokens,
                thinkingBudget, seed, keepValue.equals("correct"), formatValue, threads, batch);
        settings.generationOptions("check", 0);
        return settings;
    }

    /** The input format: --input-format, else from the file name. */
    public String inputFormat() {
        String f = inputFormat != null ? inputFormat.toLowerCase(Locale.ROOT)
                : input.endsWith(".jsonl") || input.endsWith(".json") ? "jsonl" : "parquet";
        require(f.equals("jsonl") || f.equals("parquet"), "--input-format must be jsonl or parquet, got '" + inputFormat + "'");
        return f;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
