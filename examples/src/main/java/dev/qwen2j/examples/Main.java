package dev.qwen2j.examples;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code qwen2j} command line: one subcommand per job. */
@Command(name = "qwen2j",
        mixinStandardHelpOptions = true,
        version = "qwen2j 0.1.0-SNAPSHOT",
        description = "Run Qwen2-family models (Qwen2, Qwen2.5, QwQ, DeepSeek-R1-Distill-Qwen, Sky-T1) in pure Java.",
        subcommands = {
                CommandLine.HelpCommand.class,
                InspectCommand.class,
                GenerateCommand.class,
                ChatCommand.class,
                BenchCommand.class,
                QuantizeCommand.class,
                SynthCommand.class,
                TokenizeCommand.class,
                TemplateCommand.class,
                BatchCommand.class,
                ServeCommand.class,
        })
public final class Main {

    public static void main(String[] args) {
        // A failure on a thread of ours other than main is one line too, never a stack trace.
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
            System.err.println("qwen2j: " + thread.getName() + ": " + CommandErrors.describe(e));
            System.err.flush();
        });
        System.exit(commandLine().execute(args));
    }

    /**
     * The configured command line, also used by tests: every failure, {@link Error}s included, becomes one line on
     * stderr and a non-zero exit code.
     */
    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setExecutionExceptionHandler(CommandErrors::onExecutionException);
        commandLine.setParameterExceptionHandler(CommandErrors::onParameterException);
        // picocli hands Exceptions to the handler above but lets Errors (OutOfMemoryError, StackOverflowError, the
        // InternalError of a fault in mapped memory) escape execute(): catch them where the command runs.
        commandLine.setExecutionStrategy(parseResult -> {
            try {
                return new CommandLine.RunLast().execute(parseResult);
            } catch (Error e) {
                return CommandErrors.onError(e, parseResult);
            }
        });
        return commandLine;
    }
}
