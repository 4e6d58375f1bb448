package dev.qwen2j.examples;

import dev.qwen2j.spark.BatchGenerate;
import dev.qwen2j.spark.BatchOptions;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code qwen2j batch}: the spark module's batch job on an embedded local Spark. Spark is not on the examples
 * classpath; the launcher adds it for this command only (spark/target/spark-classpath.txt), so the other commands
 * build and start without it.
 */
@Command(name = "batch", mixinStandardHelpOptions = true,
        description = {"Generate k samples per problem on an embedded local Spark, grade them, write one row per",
                "sample and summary.json. Try: qwen2j batch --model demo --input problems.jsonl --output out",
                "--samples 4 --master local[2] --temperature 1"})
public final class BatchCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Mixin
    private BatchOptions options;

    @Override
    public Integer call() throws IOException {
        ModelPaths.requireNamed(options.model);
        options.settings(options.model); // bad flags fail here, naming the flag, before Spark starts
        options.inputFormat();
        try {
            Class.forName("org.apache.spark.sql.SparkSession");
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("batch needs Spark on the classpath: run it through the qwen2j launcher, "
                    + "which adds spark/target/spark-classpath.txt");
        }
        String model = ModelPaths.DEMO.equals(options.model) ? ModelPaths.resolve(options.model).toString() : options.model;
        BatchGenerate.run(options, model, spec.commandLine().getOut());
        return 0;
    }
}
