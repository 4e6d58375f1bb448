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
                {"--thinking-budget", "0"}, {"--quantize", "int4"}};
        for (String[] flag : cases) {
            Cli cli = Cli.run("serve", "--model", "/nonexistent/folder", flag[0], flag[1]);
            assertEquals(1, cli.exitCode(), String.join(" ", flag) + ": " + cli.err());
            assertTrue(cli.err().contains(flag[0]), String.join(" ", flag) + ": " + cli.err());
            assertEquals("", cli.out());
        }
    }

    @Test
    void helpListsTheFlags() {
        Cli cli = Cli.run("serve", "--help");
        assertEquals(0, cli.exitCode());
        for (String flag : new String[] {"--model", "--host", "--port", "--api-key", "--max-batch", "--max-queue",
                "--quantize", "--thinking-budget"}) {
            assertTrue(cli.out().contains(flag), flag);
        }
    }
}
