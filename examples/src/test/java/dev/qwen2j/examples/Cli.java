package dev.qwen2j.examples;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/** Runs the command line in-process and captures what it prints. */
record Cli(int exitCode, String out, String err) {

    static Cli run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var commandLine = Main.commandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int exitCode = commandLine.execute(args);
        return new Cli(exitCode, out.toString(), err.toString());
    }

    /**
     * Like {@link #run}, for commands that read {@code System.in} or write exact bytes to {@code System.out}
     * (tokenize, template): {@code stdin} is their input, and {@code out} is what picocli printed followed by
     * the bytes written to {@code System.out}, decoded as UTF-8.
     */
    static Cli runWithStdio(String stdin, String... args) {
        return runWithStdio(stdin.getBytes(StandardCharsets.UTF_8), args);
    }

    /** {@link #runWithStdio(String, String...)} with exact input bytes (which need not be valid UTF-8). */
    static Cli runWithStdio(byte[] stdin, String... args) {
        InputStream oldIn = System.in;
        PrintStream oldOut = System.out;
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        try {
            System.setIn(new ByteArrayInputStream(stdin));
            System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
            Cli cli = run(args);
            return new Cli(cli.exitCode, cli.out + stdout.toString(StandardCharsets.UTF_8), cli.err);
        } finally {
            System.setIn(oldIn);
            System.setOut(oldOut);
        }
    }

    /** True when stderr is exactly one line and has no stack trace. */
    boolean oneErrorLine() {
        return err.strip().lines().count() == 1 && !err.contains("\tat ") && !err.contains("Exception in");
    }
}
