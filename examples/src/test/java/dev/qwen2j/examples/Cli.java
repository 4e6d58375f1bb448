package dev.qwen2j.examples;

import java.io.PrintWriter;
import java.io.StringWriter;

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

    /** True when stderr is exactly one line and has no stack trace. */
    boolean oneErrorLine() {
        return err.strip().lines().count() == 1 && !err.contains("\tat ") && !err.contains("Exception in");
    }
}
