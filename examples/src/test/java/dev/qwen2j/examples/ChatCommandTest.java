package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ChatCommandTest {

    @TempDir
    Path cache;

    @Test
    void multiTurnChatShowsReasoningApartAndHandlesCommands() {
        String previous = System.getProperty("qwen2j.cache");
        System.setProperty("qwen2j.cache", cache.toString());
        try {
            ChatCommand chat = new ChatCommand();
            chat.input = new BufferedReader(new StringReader("What is 358+479?\n/help\n/reset\nWhat is 20+22?\n/exit\n"));
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            CommandLine commandLine = new CommandLine(chat);
            commandLine.setOut(new PrintWriter(out, true));
            commandLine.setErr(new PrintWriter(err, true));
            int exit = commandLine.execute("--model", "demo", "--plain");
            assertEquals(0, exit, err.toString());
            String text = out.toString();
            assertTrue(text.contains("> [thinking]\n8+9=17\n5+7+1=13\n3+4+1=8\n[answer]\n837\n"), text);
            assertTrue(text.contains("(commands: /reset, /exit)") && text.contains("(conversation forgotten)"), text);
            assertTrue(text.contains("[answer]\n42\n"), text);
            assertEquals(2, err.toString().lines().filter(l -> l.contains("finish eos")).count(), err.toString());
        } finally {
            if (previous == null) {
                System.clearProperty("qwen2j.cache");
            } else {
                System.setProperty("qwen2j.cache", previous);
            }
        }
    }

    @Test
    void hiddenThinkingShowsOnlyTheAnswerAndABudgetCutsTheThink() {
        String previous = System.getProperty("qwen2j.cache");
        System.setProperty("qwen2j.cache", cache.toString());
        try {
            ChatCommand chat = new ChatCommand();
            chat.input = new BufferedReader(new StringReader("What is 358+479?\n/exit\n"));
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            CommandLine commandLine = new CommandLine(chat);
            commandLine.setOut(new PrintWriter(out, true));
            commandLine.setErr(new PrintWriter(err, true));
            int exit = commandLine.execute("--model", "demo", "--plain", "--hide-thinking", "--thinking-budget", "30");
            assertEquals(0, exit, err.toString());
            String text = out.toString();
            assertTrue(text.contains("> 837\n") && !text.contains("[thinking]") && !text.contains("8+9=17"), text);
        } finally {
            if (previous == null) {
                System.clearProperty("qwen2j.cache");
            } else {
                System.setProperty("qwen2j.cache", previous);
            }
        }
    }
}
