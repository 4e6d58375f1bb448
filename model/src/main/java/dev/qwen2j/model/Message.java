package dev.qwen2j.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One turn of a conversation, as chat templates see it.
 *
 * @param role             {@code system}, {@code user}, {@code assistant} or {@code tool}
 * @param content          the text; may be null only for an assistant turn that just calls tools
 * @param reasoningContent an assistant's reasoning (the part inside {@code <think>…</think>}), or null
 * @param toolCalls        tool calls as transformers' templates expect them, or null
 */
public record Message(String role, String content, String reasoningContent, List<Map<String, Object>> toolCalls) {

    public Message {
        if (role == null || role.isBlank()) {
            throw new IllegalArgumentException("role must not be empty");
        }
        toolCalls = toolCalls == null ? null : List.copyOf(toolCalls);
    }

    /** A system message. */
    public static Message system(String content) {
        return new Message("system", Objects.requireNonNull(content, "content"), null, null);
    }

    /** A user message. */
    public static Message user(String content) {
        return new Message("user", Objects.requireNonNull(content, "content"), null, null);
    }

    /** An assistant message (a previous reply, for multi-turn chat). */
    public static Message assistant(String content) {
        return new Message("assistant", Objects.requireNonNull(content, "content"), null, null);
    }

    /** An assistant message with its reasoning kept apart, for templates that render {@code reasoning_content}. */
    public static Message assistant(String content, String reasoningContent) {
        return new Message("assistant", Objects.requireNonNull(content, "content"), reasoningContent, null);
    }

    /**
     * The message as a chat template reads it: {@code role}, {@code content}, and {@code reasoning_content} /
     * {@code tool_calls} when present (transformers' key names).
     */
    public Map<String, Object> toTemplateMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("role", role);
        map.put("content", content);
        if (reasoningContent != null) {
            map.put("reasoning_content", reasoningContent);
        }
        if (toolCalls != null) {
            map.put("tool_calls", toolCalls);
        }
        return map;
    }
}
