package dev.qwen2j.examples;

import dev.qwen2j.model.GenerationListener;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.GenerationResult;
import dev.qwen2j.model.Model;
import dev.qwen2j.model.SelfConsistencyResult;
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
                "statistics go to stderr. Try: qwen2j generate --model demo --prompt \"What is 358+479?\"",
                "With --samples N: N samples decoded together, each one's answer on its own line, then the",
                "majority answer on the last line."})
final class GenerateCommand implements Callable<Integer> {

    @Mixin
    ModelSource source;

    @Option(names = {"-p", "--prompt"}, required = true, paramLabel = "TEXT", description = "The prompt.")
    String prompt;

    @Option(names = "--raw", description = "Feed the prompt as is, without the model's chat template.")
    boolean raw;

    @Option(names = "--samples", defaultValue = "1", paramLabel = "N",
            description = "Self-consistency: draw N samples in one batch and vote on their answers (default 1).")
    int samples;

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
        GenerationOptions.Builder builder = sampling.toBuilder().chat(!raw);
        try {
            builder.samples(samples);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--samples: " + e.getMessage(), e);
        }
        GenerationOptions options = sampling.build(builder);
        boolean showThinking = sampling.thinkingShown();
        try (Model model = source.load(0, err)) {
            if (samples > 1) {
                vote(model, options, out, err);
                return 0;
            }
            GenerationListener listener = showThinking ? text -> print(out, text) : new GenerationListener() {
                @Override
                public void onText(String text) {
                }

                @Override
                public void onChannelText(Channel channel, String text) {
                    if (channel == Channel.ANSWER) {
                        print(out, text);
                    }
                }
            };
            GenerationResult result = model.generate(prompt, options, listener);
            String printed = showThinking ? result.text() : result.answer();
            boolean endsLine = printed.endsWith("\n");
            if (System.console() != null && !endsLine) {
                out.println();
                endsLine = true;
            }
            out.flush();
            // stdout stays exactly the generated text; when it ends mid-line, the statistics start a new one.
            err.println((endsLine || printed.isEmpty() ? "" : System.lineSeparator())
                    + statistics(result, source.loadMillis));
            err.flush();
        }
        return 0;
    }

    private void vote(Model model, GenerationOptions options, PrintWriter out, PrintWriter err) {
        SelfConsistencyResult result = model.selfConsistency(prompt, options);
        for (int i = 0; i < result.samples().size(); i++) {
            String answer = result.answers().get(i);
            out.println("sample " + (i + 1) + ": " + (answer == null ? "(no answer)" : answer));
        }
        out.println(result.answer() == null ? "" : result.answer());
        out.flush();
        long generated = result.samples().stream().mapToLong(GenerationResult::generatedTokens).sum();
        err.println(String.format(Locale.ROOT,
                "[load %d ms · %d samples · majority %d of %d (%.0f%%) · generated %d tokens · KV cache %.1f MB]",
                source.loadMillis, result.samples().size(), result.votes(), result.samples().size(),
                100 * result.agreement(), generated, result.kvCacheBytes() / 1e6));
        err.flush();
    }

    private static void print(PrintWriter out, String text) {
        out.print(text);
        out.flush();
    }

    static String statistics(GenerationResult r, long loadMillis) {
        return String.format(Locale.ROOT,
                "[load %d ms · prompt %d tokens, %.1f tok/s · generated %d tokens, %.1f tok/s · finish %s]",
                loadMillis, r.promptTokens(), r.prefillTokensPerSecond(), r.generatedTokens(),
                r.decodeTokensPerSecond(), r.finishReason().name().toLowerCase(Locale.ROOT));
    }
}
