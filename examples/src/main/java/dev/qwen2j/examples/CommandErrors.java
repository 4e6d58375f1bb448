package dev.qwen2j.examples;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;

/**
 * Turns failures into one clear line on stderr and a non-zero exit code: the user sees what is wrong with
 * their folder or option, not a stack trace (unless they ask with {@code --verbose}).
 */
final class CommandErrors {

    /** Exit code of a command that failed while running (bad folder, bad file, ...). */
    static final int FAILED = 1;

    /** The {@code --verbose} flag every command mixes in. */
    static final class Verbosity {
        @Option(names = "--verbose", description = "On errors, print the stack trace too.")
        boolean verbose;
    }

    private CommandErrors() {
    }

    static int onExecutionException(Exception e, CommandLine commandLine, ParseResult parseResult) {
        return report(e, commandLine, parseResult);
    }

    /** An {@link Error} out of a command: one line naming what ran out or broke, the trace only with --verbose. */
    static int onError(Error e, ParseResult parseResult) {
        ParseResult command = parseResult;
        while (command.subcommand() != null) {
            command = command.subcommand();
        }
        return report(e, command.commandSpec().commandLine(), parseResult);
    }

    private static int report(Throwable e, CommandLine commandLine, ParseResult parseResult) {
        var err = commandLine.getErr();
        err.println(commandLine.getCommandName() + ": " + describe(e));
        if (isVerbose(parseResult)) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            err.print(trace);
        }
        err.flush();
        return FAILED;
    }

    static int onParameterException(CommandLine.ParameterException e, String[] args) {
        CommandLine commandLine = e.getCommandLine();
        var err = commandLine.getErr();
        err.println(commandLine.getCommandName() + ": " + e.getMessage() + " (try --help)");
        err.flush();
        return commandLine.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** One line saying what went wrong, naming the file where there is one. */
    static String describe(Throwable e) {
        if (e instanceof Error error) {
            return describeError(error);
        }
        Throwable cause = e;
        while (cause.getMessage() == null && cause.getCause() != null) {
            cause = cause.getCause();
        }
        String message = cause.getMessage();
        if (cause instanceof NoSuchFileException missing && missing.getReason() == null) {
            return "no such file: " + missing.getFile();
        }
        if (cause instanceof AccessDeniedException denied && denied.getReason() == null) {
            return "permission denied: " + denied.getFile();
        }
        if (cause instanceof FileSystemException fs && fs.getReason() == null || message == null || message.isBlank()) {
            return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
        }
        return message.lines().findFirst().orElse(message);
    }

    private static String describeError(Error e) {
        String message = e.getMessage() == null ? "" : " (" + e.getMessage().lines().findFirst().orElse("") + ")";
        return switch (e) {
            case OutOfMemoryError oom -> "out of memory" + message + ": give the JVM more (e.g. QWEN2J_JAVA_OPTS=-Xmx8g)"
                    + " or use a smaller model or context";
            case StackOverflowError so -> "stack overflow: the input is nested too deeply";
            case InternalError internal when internal.getMessage() != null && internal.getMessage().contains("unsafe memory")
                    -> "a memory-mapped file could not be read or written (a full disk, or a file truncated while in"
                    + " use)" + message;
            default -> e.getClass().getSimpleName() + message;
        };
    }

    private static boolean isVerbose(ParseResult parseResult) {
        for (ParseResult p = parseResult; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }
}
