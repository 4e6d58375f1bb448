package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.model.ModelOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Hostile and careless input on the command line: every failure is one clear line, pointing the right way. */
@ExtendWith(TemporaryDemoCache.class)
class RobustnessTest {

    @TempDir
    Path temp;

    private static void assertOneLine(Cli cli, String... expected) {
        assertEquals(1, cli.exitCode(), cli.err());
        assertTrue(cli.oneErrorLine(), cli.err());
        assertEquals("", cli.out());
        for (String s : expected) {
            assertTrue(cli.err().contains(s), "'" + s + "' in: " + cli.err());
        }
    }

    @Test
    void samplingValuesBeyondFloatRangeNameTheFlagAndTheRange() {
        assertOneLine(Cli.run("generate", "--model", "demo", "--prompt", "hi", "--temperature", "1e39"),
                "--temperature", "[0, " + Float.MAX_VALUE + "]");
        assertOneLine(Cli.run("generate", "--model", "demo", "--prompt", "hi", "--repetition-penalty", "1e308"),
                "--repetition-penalty", Float.MIN_VALUE + ", " + Float.MAX_VALUE);
        assertOneLine(Cli.run("generate", "--model", "demo", "--prompt", "hi", "--repetition-penalty", "1e-50"),
                "--repetition-penalty");
        assertOneLine(Cli.run("chat", "--model", "demo", "--top-p", "1e-50"), "--top-p", Float.MIN_VALUE + ", 1]");
        for (String[] flagValue : new String[][] {{"--temperature", "1e39"}, {"--repetition-penalty", "1e308"},
                {"--repetition-penalty", "1e-50"}, {"--top-p", "1e-50"}}) {
            Cli cli = Cli.run("generate", "--model", "demo", "--prompt", "hi", flagValue[0], flagValue[1]);
            assertFalse(cli.err().contains("generation_config.json"), cli.err());
        }
    }

    @Test
    void threadsAreBoundedBeforeAnyThreadStarts() {
        int max = ModelOptions.maxThreads();
        for (String threads : List.of("50000", "2147483647", String.valueOf(max + 1))) {
            long before = Thread.activeCount();
            assertOneLine(Cli.run("generate", "--model", "demo", "--prompt", "hi", "--threads", threads),
                    "--threads", "[0, " + max + "]", "got " + threads);
            assertTrue(Thread.activeCount() <= before + 2, "no worker threads were started");
        }
        assertOneLine(Cli.run("bench", "--model", "demo", "--threads", "50000"), "--threads");
    }

    @Test
    void benchLengthsBeyondTheContextFailFastNamingFlagsAndLimit() {
        long start = System.nanoTime();
        assertOneLine(Cli.run("bench", "--model", "demo", "--prompt-tokens", "2147483647", "--gen-tokens", "2147483647"),
                "--prompt-tokens 2147483647 + --gen-tokens 2147483647 = 4294967294 positions", "context limit of 512");
        assertOneLine(Cli.run("bench", "--model", "demo", "--prompt-tokens", "100000"),
                "--prompt-tokens 100000", "context limit of 512");
        assertOneLine(Cli.run("bench", "--model", "demo", "--runs", "2147483647"), "--runs");
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20), "fails before tokenizing or prefilling");
    }

    @Test
    void invalidUtf8OnTokenizeStdinWarnsWithTheByteOffset() {
        byte[] input = {'a', 'b', (byte) 0xC3, '(', 'c'};
        Cli cli = Cli.runWithStdio(input, "tokenize", "--model", "demo");
        assertEquals(0, cli.exitCode(), cli.err());
        assertTrue(cli.err().contains("not valid UTF-8") && cli.err().contains("offset 2"), cli.err());
        assertTrue(cli.out().matches("[0-9 ]+\n"), cli.out());
        assertEquals(-1, TokenizeCommand.firstInvalidUtf8("héllo wörld".getBytes(StandardCharsets.UTF_8)));
        assertEquals(3, TokenizeCommand.firstInvalidUtf8(new byte[] {'x', 'y', 'z', (byte) 0xE2, (byte) 0x82}));
        Cli valid = Cli.runWithStdio("Hello", "tokenize", "--model", "demo");
        assertEquals("", valid.err());
    }

    @Test
    void synthRemovesWhatAKilledSynthLeftBesideTheTarget() throws IOException {
        // What `kill -9` during `synth --out big` leaves: the half-written folder and its (now unlocked) lock file.
        Path dead = Files.createDirectories(temp.resolve(".big.writing-123"));
        Files.writeString(dead.resolve("model.safetensors"), "half");
        Files.createFile(temp.resolve(".big.writing-123.lock"));
        Cli cli = Cli.run("synth", "--shape", "tiny", "--out", temp.resolve("big").toString());
        assertEquals(0, cli.exitCode(), cli.err());
        try (var entries = Files.list(temp)) {
            assertEquals(List.of(temp.resolve("big")), entries.toList());
        }
    }

    @Test
    void anUnreadableModelFolderSaysPermissionDenied() throws IOException {
        Assumptions.assumeFalse("root".equals(System.getProperty("user.name")), "root reads every folder");
        Path folder = Files.createDirectories(temp.resolve("locked"));
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(folder);
        Files.setPosixFilePermissions(folder, Set.of());
        try {
            assertOneLine(Cli.run("generate", "--model", folder.toString(), "--prompt", "hi"), "permission denied");
        } finally {
            Files.setPosixFilePermissions(folder, mode);
        }
    }

    /** A command that fails with whatever Error it is given, to reach the top-level handler as a real one would. */
    @Command(name = "boom")
    static final class Boom implements Callable<Integer> {
        final Error error;

        @CommandLine.Mixin
        CommandErrors.Verbosity verbosity;

        Boom(Error error) {
            this.error = error;
        }

        @Override
        public Integer call() {
            throw error;
        }
    }

    private static Cli runBoom(Error error, String... args) {
        CommandLine commandLine = Main.commandLine().addSubcommand("boom", new Boom(error));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        List<String> all = new ArrayList<>(List.of("boom"));
        all.addAll(Arrays.asList(args));
        return new Cli(commandLine.execute(all.toArray(String[]::new)), out.toString(), err.toString());
    }

    @Test
    void errorsBecomeOneLineAndANonZeroExit() {
        assertOneLine(runBoom(new OutOfMemoryError("Java heap space")), "boom: out of memory (Java heap space)",
                "QWEN2J_JAVA_OPTS=-Xmx");
        assertOneLine(runBoom(new StackOverflowError()), "boom: stack overflow");
        assertOneLine(runBoom(new InternalError("a fault occurred in an unsafe memory access operation")),
                "a memory-mapped file could not be read or written", "full disk");
        assertOneLine(runBoom(new NoClassDefFoundError("x/Y")), "boom: NoClassDefFoundError (x/Y)");
        Cli verbose = runBoom(new OutOfMemoryError("Java heap space"), "--verbose");
        assertEquals(1, verbose.exitCode());
        assertTrue(verbose.err().startsWith("boom: out of memory") && verbose.err().contains("\tat "), verbose.err());
    }

    /** The flags ./qwen2j gives the JVM so that stdout carries nothing but generated text. */
    private static List<String> launcherStderrFlags() throws IOException {
        Matcher m = Pattern.compile("(?m)^stderr_flags=\\((.*)\\)$").matcher(Files.readString(Path.of("..", "qwen2j")));
        assertTrue(m.find(), "./qwen2j sets stderr_flags=(...)");
        return List.of(m.group(1).trim().split("\\s+"));
    }

    @Test
    void theLauncherSendsJvmWarningsToStderr() throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector"));
        command.addAll(launcherStderrFlags());
        // Two JVM warnings that print on stdout by default: a unified-logging one and the incubator notice.
        command.addAll(List.of("-Xmx64m", "-XX:NewSize=2m", "-XX:MaxNewSize=1m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "--version"));
        Process process = new ProcessBuilder(command).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals("qwen2j 0.1.0-SNAPSHOT\n", out, "stdout: only what the program printed; stderr: " + err);
        assertTrue(err.contains("warning") && err.contains("MaxNewSize"), err);
        assertTrue(err.contains("Using incubator modules"), err);
    }
}
