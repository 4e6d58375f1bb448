package dev.qwen2j.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * The batch job: reads problems, generates k samples of each on every executor's shared model, grades them and
 * writes one row per sample plus {@code summary.json} (see {@link PartitionFiles} for the output folder). Run it
 * with spark-submit (this class is the main class) or through {@code qwen2j batch} on an embedded local Spark.
 */
@Command(name = "batch", mixinStandardHelpOptions = true,
        description = "Generate k samples per problem on Spark, grade them, write rows and summary.json.")
public final class BatchGenerate implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    BatchOptions options;

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new BatchGenerate());
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println("batch: " + rootMessage(e));
            return 1;
        });
        System.exit(cli.execute(args));
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        run(options, options.model, out);
        return 0;
    }

    /** Runs the job for {@code options} with the model at {@code modelPath}; prints and returns the summary. */
    public static Summary run(BatchOptions options, String modelPath, PrintWriter out) throws IOException {
        JobSettings settings = options.settings(modelPath);
        String inputFormat = options.inputFormat();
        SparkSession.Builder builder = SparkSession.builder().appName("qwen2j batch");
        if (options.master != null) {
            builder.master(options.master);
        } else if (System.getProperty("spark.master") == null) {
            builder.master("local[*]");
        }
        SparkSession spark = builder.getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            Summary summary = runJob(spark, settings, options.input, inputFormat, options.partitions);
            out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(summary));
            return summary;
        } catch (RuntimeException e) {
            throw new IllegalStateException(rootMessage(e), e);
        } finally {
            spark.stop();
        }
    }

    /** The job on a running session; the summary is also written to {@code output/summary.json}. */
    public static Summary runJob(SparkSession spark, JobSettings settings, String input, String inputFormat,
                              int partitions) throws IOException {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration conf = sc.hadoopConfiguration();
        PartitionFiles files = new PartitionFiles(settings.output(), settings.format(), conf);
        files.removeOrphans();

        JavaRDD<String> rows = "parquet".equals(inputFormat)
                ? spark.read().parquet(input).toJSON().javaRDD()
                : sc.textFile(input).filter(line -> !line.isBlank());
        JavaRDD<Problem.Parsed> parsed = rows.map(Problem::parse).cache();
        long rejected = writeRejects(files, parsed.filter(p -> p.problem() == null), conf);

        Broadcast<Set<String>> done = sc.broadcast(finishedIds(files, conf));
        JavaRDD<Problem> todo = parsed.filter(p -> p.problem() != null).map(Problem.Parsed::problem)
                .filter(p -> !done.value().contains(p.id()));
        if (partitions > 0) {
            todo = todo.repartition(partitions);
        }
        LongAccumulator tokens = sc.sc().longAccumulator("qwen2j tokens");
        long start = System.nanoTime();
        todo.foreachPartition(new GeneratePartition(settings, tokens));
        double seconds = (System.nanoTime() - start) / 1e9;
        parsed.unpersist();

        Summary summary = Summary.of(readLedgers(files, conf), rejected, tokens.value(),
                tokens.value() > 0 ? seconds : 0);
        try (OutputStream out = files.fs().create(new Path(settings.output(), PartitionFiles.SUMMARY), true)) {
            out.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(summary));
        }
        return summary;
    }

    /** Writes the rejected rows to {@code output/rejects} (JSON lines of reason and row); returns how many. */
    private static long writeRejects(PartitionFiles files, JavaRDD<Problem.Parsed> rejects, Configuration conf)
            throws IOException {
        Path dir = new Path(files.root(), PartitionFiles.REJECTS);
        files.fs().delete(dir, true);
        JavaRDD<String> lines = rejects.map(p -> JSON.writeValueAsString(
                java.util.Map.of("reason", p.rejection(), "row", p.row())));
        lines.cache();
        long count = lines.count();
        if (count > 0) {
            lines.coalesce(1).saveAsTextFile(dir.toString());
        }
        lines.unpersist();
        return count;
    }

    private static Set<String> finishedIds(PartitionFiles files, Configuration conf) throws IOException {
        Set<String> ids = new HashSet<>();
        for (ProblemResult r : readLedgers(files, conf)) {
            ids.add(r.id());
        }
        return ids;
    }

    /** Every finished problem in the output folder, from the partitions' ledgers. */
    static List<ProblemResult> readLedgers(PartitionFiles files, Configuration conf) throws IOException {
        FileSystem fs = files.fs();
        Path dir = new Path(files.root(), PartitionFiles.DONE);
        List<ProblemResult> results = new ArrayList<>();
        if (!fs.exists(dir)) {
            return results;
        }
        for (FileStatus status : fs.listStatus(dir)) {
            if (status.getPath().getName().startsWith(".")) {
                continue;
            }
            try (BufferedReader in = new BufferedReader(new InputStreamReader(fs.open(status.getPath()),
                    StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (!line.isBlank()) {
                        results.add(JSON.readValue(line, ProblemResult.class));
                    }
                }
            }
        }
        return results;
    }

    /** The innermost message of a failure: Spark wraps a task's exception in several layers. */
    static String rootMessage(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause.getMessage() != null ? cause.getMessage() : cause.toString();
    }
}
