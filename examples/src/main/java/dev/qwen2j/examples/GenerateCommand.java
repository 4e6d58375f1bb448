package dev.qwen2j.examples;

import dev.qwen2j.model.GenerationListener;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.GenerationResult;
import dev.qwen2j.model.Model;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code qwen2j generate}: one prompt in, the generated text streamed out. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate a reply to one prompt, streaming only the generated text to stdout;",
                "statistics go to stderr. Try: qwen2j generate --model demo --prompt \"What is 358+479?\""})
final class GenerateCommand implements Callable<Integer> {

    @Mixin
    ModelSource source;

    @Option(names = {"-p", "--prompt"}, required = true, paramLabel = "TEXT", description = "The prompt.")
    String prompt;

    @Option(names = "--raw", description = "Feed the prompt as is, without the model's chat template.")
    boolean raw;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    CommandErrors.Verbosity verbosity;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        GenerationOptions options = sampling.toBuilder().chat(!raw).build();
        try (Model model = source.load(0, err)) {
            GenerationListener listener = text -> {
                out.print(text);
                out.flush();
            };
            GenerationResult result = model.generate(prompt, options, listener);
            boolean endsLine = result.text().endsWith("\n");
            if (System.console() != null && !endsLine) {
                out.println();
                endsLine = true;
            }
            out.flush();
            // stdout stays exactly the generated text; when it ends mid-line, the statistics start a new one.
            err.println((endsLine ? "" : System.lineSeparator()) + statistics(result, source.loadMillis));
            err.flush();
        }
        return 0;
    }

    static String statistics(GenerationResult r, long loadMillis) {
        return String.format(Locale.ROOT,
                "[load %d ms · prompt %d tokens, %.1f tok/s · generated %d tokens, %.1f tok/s · finish %s]",
                loadMillis, r.promptTokens(), r.prefillTokensPerSecond(), r.generatedTokens(),
                r.decodeTokensPerSecond(), r.finishReason().name().toLowerCase(Locale.ROOT));
    }
}
