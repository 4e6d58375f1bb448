package dev.qwen2j.core.chat;

import dev.qwen2j.core.chat.ToolCallParser.ToolCall;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AssistantOutputTest {

    private static final RenderedPrompt CHAT = new RenderedPrompt("", ReasoningFormat.THINK, false);

    /** Feeds {@code text} in pieces of {@code size} characters; returns the output and what the sink saw. */
    private static AssistantOutput feed(String text, int size, boolean tools, StringBuilder streamedContent) {
        AssistantOutput output = new AssistantOutput(CHAT, tools, new AssistantOutput.Sink() {
            @Override
            public void reasoning(String piece) {
            }

            @Override
            public void content(String piece) {
                streamedContent.append(piece);
            }
        });
        for (int i = 0; i < text.length(); i += size) {
            output.accept(text.substring(i, Math.min(text.length(), i + size)));
        }
        output.finish();
        return output;
    }

    @Test
    void qwenToolCallsBecomeCallsWhateverThePieces() {
        String text = "<think>\nneed a sum\n</think>\n\nLet me add.\n<tool_call>\n{\"name\": \"add\", \"arguments\": "
                + "{\"a\": 1, \"b\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>";
        for (int size = 1; size <= text.length(); size += 7) {
            StringBuilder streamed = new StringBuilder();
            AssistantOutput output = feed(text, size, true, streamed);
            assertEquals("need a sum", output.reasoning());
            assertEquals("Let me add.", output.content());
            assertEquals(List.of(new ToolCall("add", "{\"a\":1,\"b\":2}"), new ToolCall("now", "{}")), output.toolCalls());
            assertTrue(!streamed.toString().contains("tool_call"), streamed.toString());
        }
    }

    @Test
    void withoutToolsTheTagsAreText() {
        String text = "<tool_call>\n{\"name\": \"add\"}\n</tool_call>";
        AssistantOutput output = feed(text, 3, false, new StringBuilder());
        assertEquals(text, output.content());
        assertEquals(List.of(), output.toolCalls());
    }

    @Test
    void aBlockThatIsNotACallStaysText() {
        AssistantOutput broken = feed("a <tool_call>not json</tool_call> b", 4, true, new StringBuilder());
        assertEquals("a <tool_call>not json</tool_call> b", broken.content());
        AssistantOutput unclosed = feed("a <tool_call>{\"name\": \"x\"", 4, true, new StringBuilder());
        assertEquals("a <tool_call>{\"name\": \"x\"", unclosed.content());
        assertTrue(unclosed.toolCalls().isEmpty());
    }

    @Test
    void argumentsMayBeAStringOrMissing() {
        assertEquals(new ToolCall("f", "{\"x\":1}"), ToolCallParser.parse("{\"name\":\"f\",\"arguments\":\"{\\\"x\\\":1}\"}"));
        assertEquals(new ToolCall("f", "{}"), ToolCallParser.parse("{\"name\":\"f\"}"));
        assertNull(ToolCallParser.parse("{\"arguments\":{}}"));
        assertNull(ToolCallParser.parse("[1]"));
    }
}
