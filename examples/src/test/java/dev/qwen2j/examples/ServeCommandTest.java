package dev.qwen2j.examples;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code serve}'s flags are checked before the model loads; the server itself is tested in ServeDemoTest. */
class ServeCommandTest {

    @Test
    void badFlagsFailInOneLineNamingTheFlag() {
        String[][] cases = {{"--max-batch", "0"}, {"--max-queue", "-1"}, {"--port", "70000"}, {"--api-key", " "},
                {"--host", ""}, {"--shutdown-grace", "-1"}, {"--context", "-5"},
                {"--thinking-budget", "0"}, {"--quantize", "int4"}, {"--kv-memory", "lots"}, {"--kv-memory", "-4g"},
                {"--kv-memory", "0"}};
        for (String[] flag : cases) {
            Cli cli = Cli.run("serve", "--model", "/nonexistent/folder", flag[0], flag[1]);
            assertEquals(1, cli.exitCode(), String.join(" ", flag) + ": " + cli.err());
            assertTrue(cli.err().contains(flag[0]), String.join(" ", flag) + ": " + cli.err());
            assertEquals("", cli.out());
        }
    }

    @Test
    void kvMemoryTakesBinarySizes() {
        assertEquals(512L << 20, ServeCommand.parseSize("512m"));
        assertEquals(4L << 30, ServeCommand.parseSize("4G"));
        assertEquals(3L << 29, ServeCommand.parseSize("1.5GiB"));
        assertEquals(1073741824L, ServeCommand.parseSize("1073741824"));
        assertEquals(2L << 10, ServeCommand.parseSize("2kb"));
    }

    @Test
    void helpListsTheFlags() {
        Cli cli = Cli.run("serve", "--help");
        assertEquals(0, cli.exitCode());
        for (String flag : new String[] {"--model", "--host", "--port", "--api-key", "--max-batch", "--max-queue",
                "--quantize", "--thinking-budget", "--kv-memory", "--no-prefix-cache"}) {
            assertTrue(cli.out().contains(flag), flag);
        }
    }
}
