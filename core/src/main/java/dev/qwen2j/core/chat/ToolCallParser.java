package dev.qwen2j.core.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Pulls Qwen2.5's tool calls, {@code <tool_call>{"name": …, "arguments": {…}}</tool_call>}, out of streamed answer
 * text. Text outside the tags goes on to the content sink as it comes (a partial tag is held back until it is
 * decided); a block that is not a JSON object with a string {@code name} is passed on as plain text. One per
 * choice; not thread-safe.
 */
public final class ToolCallParser {

    private static final String OPEN = "<tool_call>";
    private static final String CLOSE = "</tool_call>";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One parsed call: the function's name and its arguments as a JSON text (OpenAI's wire form). */
    public record ToolCall(String name, String arguments) {
    }

    private final Consumer<String> content;
    private final StringBuilder held = new StringBuilder();
    private final List<ToolCall> calls = new ArrayList<>();
    private boolean inCall;

    public ToolCallParser(Consumer<String> content) {
        this.content = content;
    }

    /** Takes the next piece of answer text. */
    public void accept(String piece) {
        held.append(piece);
        while (true) {
            String tag = inCall ? CLOSE : OPEN;
            int at = held.indexOf(tag);
            if (at < 0) {
                if (!inCall) {
                    int keep = partialTagAtEnd();
                    emit(held.substring(0, held.length() - keep));
                    held.delete(0, held.length() - keep);
                }
                return;
            }
            if (inCall) {
                String body = held.substring(0, at);
                ToolCall call = parse(body);
                if (call != null) {
                    calls.add(call);
                } else {
                    emit(OPEN + body + CLOSE);
                }
            } else {
                emit(held.substring(0, at));
            }
            held.delete(0, at + tag.length());
            inCall = !inCall;
        }
    }

    /** Ends the text: an unclosed call is plain text after all. */
    public void finish() {
        emit(inCall ? OPEN + held : held.toString());
        held.setLength(0);
        inCall = false;
    }

    /** The calls parsed so far, in order. */
    public List<ToolCall> calls() {
        return List.copyOf(calls);
    }

    private void emit(String text) {
        if (!text.isEmpty()) {
            content.accept(text);
        }
    }

    private int partialTagAtEnd() {
        for (int k = Math.min(OPEN.length() - 1, held.length()); k > 0; k--) {
            if (held.substring(held.length() - k).equals(OPEN.substring(0, k))) {
                return k;
            }
        }
        return 0;
    }

    /** One call's JSON body, or null when it is not {"name": string, "arguments": …}. */
    public static ToolCall parse(String body) {
        try {
            JsonNode node = JSON.readTree(body.strip());
            if (node == null || !node.isObject() || !node.path("name").isTextual()) {
                return null;
            }
            JsonNode arguments = node.has("arguments") ? node.get("arguments") : node.path("parameters");
            String text = arguments.isMissingNode() || arguments.isNull() ? "{}"
                    : arguments.isTextual() ? arguments.asText() : JSON.writeValueAsString(arguments);
            return new ToolCall(node.get("name").asText(), text);
        } catch (JsonProcessingException e) {
            return null;
        }
    }
}
