package dev.qwen2j.jmh;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/** A smoke run of the benchmark's methods (no timing): they work and render the whole conversation. */
class ChatTemplateBenchmarkTest {

    @Test
    void benchmarkRendersTheConversation() throws IOException {
        ChatTemplateBenchmark b = new ChatTemplateBenchmark();
        b.setUp();
        String prompt = b.render();
        assertTrue(prompt.startsWith("<|im_start|>system\nYou are a helpful assistant."), prompt);
        assertTrue(prompt.contains("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"city 2\"}}\n</tool_call>"), prompt);
        assertTrue(prompt.endsWith("<|im_start|>user\nThanks, and tomorrow?<|im_end|>\n<|im_start|>assistant\n"), prompt);
        assertTrue(b.parse().source().equals(b.parse().source()));
    }
}
