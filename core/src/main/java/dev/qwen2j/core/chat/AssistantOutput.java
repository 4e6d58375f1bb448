package dev.qwen2j.core.chat;

import java.util.List;

/**
 * An assistant's streamed output taken apart: the thought ({@link ReasoningSplitter}), the answer text, and, when
 * tools were offered, the tool calls in it ({@link ToolCallParser}). One per generation; not thread-safe.
 */
public final class AssistantOutput {

    /** Where reasoning and answer text go, piece by piece (never empty). */
    public interface Sink {
        void reasoning(String text);

        void content(String text);
    }

    private final StringBuilder reasoning = new StringBuilder();
    private final StringBuilder content = new StringBuilder();
    private final ToolCallParser tools;
    private final ReasoningSplitter splitter;

    /**
     * @param prompt         the prompt generated from (its thought markers, and whether it opened a thought)
     * @param parseToolCalls true when tools were offered: {@code <tool_call>} blocks become {@link #toolCalls()}
     */
    public AssistantOutput(RenderedPrompt prompt, boolean parseToolCalls, Sink sink) {
        ToolCallParser parser = new ToolCallParser(text -> {
            content.append(text);
            sink.content(text);
        });
        this.tools = parseToolCalls ? parser : null;
        this.splitter = new ReasoningSplitter(prompt.reasoning(), prompt.opensThought(), new ReasoningSplitter.Sink() {
            @Override
            public void reasoning(String text) {
                reasoning.append(text);
                sink.reasoning(text);
            }

            @Override
            public void answer(String text) {
                if (tools != null) {
                    tools.accept(text);
                } else {
                    content.append(text);
                    sink.content(text);
                }
            }
        });
    }

    /** Takes the next piece of generated text. */
    public void accept(String piece) {
        splitter.accept(piece);
    }

    /** Ends the output: whatever was held back as a possible marker is text after all. */
    public void finish() {
        splitter.finish();
        if (tools != null) {
            tools.finish();
        }
    }

    /** The thought, without markers, trimmed. */
    public String reasoning() {
        return reasoning.toString().strip();
    }

    /** The answer text outside tool calls, trimmed. */
    public String content() {
        return content.toString().strip();
    }

    /** The tool calls found (none when tools were not offered). */
    public List<ToolCallParser.ToolCall> toolCalls() {
        return tools == null ? List.of() : tools.calls();
    }
}
