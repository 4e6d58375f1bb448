package dev.qwen2j.spark;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwen2j.model.Message;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * One input problem: an {@code id}, either a {@code prompt} or chat {@code messages}, and the reference
 * {@code answer} when there is one (null: the samples are generated but not graded).
 */
public record Problem(String id, String prompt, List<Turn> messages, String answer) implements Serializable {

    /** One chat message of a problem given as {@code messages}. */
    public record Turn(String role, String content) implements Serializable {
    }

    /** A parsed input row: a problem, or the reason it was rejected together with the row as read. */
    public record Parsed(Problem problem, String rejection, String row) implements Serializable {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The messages as the model takes them (only for problems given as messages). */
    public List<Message> chatMessages() {
        List<Message> out = new ArrayList<>(messages.size());
        for (Turn turn : messages) {
            out.add(new Message(turn.role(), turn.content(), null, null));
        }
        return out;
    }

    /** Parses one row given as a JSON object (a JSONL line, or a Parquet row written as JSON by Spark). */
    public static Parsed parse(String row) {
        try {
            return new Parsed(fromJson(JSON.readTree(row)), null, row);
        } catch (JsonProcessingException e) {
            return new Parsed(null, "not valid JSON: " + e.getOriginalMessage(), row);
        } catch (IllegalArgumentException e) {
            return new Parsed(null, e.getMessage(), row);
        }
    }

    private static Problem fromJson(JsonNode node) {
        if (!(node instanceof ObjectNode)) {
            throw new IllegalArgumentException("not a JSON object");
        }
        JsonNode id = node.get("id");
        if (id == null || id.isNull()) {
            throw new IllegalArgumentException("missing field 'id'");
        }
        if (!id.isTextual() && !id.isIntegralNumber()) {
            throw new IllegalArgumentException("field 'id' must be a string or an integer, got " + id.getNodeType());
        }
        if (id.asText().isBlank()) {
            throw new IllegalArgumentException("field 'id' is blank");
        }
        JsonNode prompt = present(node, "prompt");
        JsonNode messages = present(node, "messages");
        if ((prompt == null) == (messages == null)) {
            throw new IllegalArgumentException(prompt == null ? "needs field 'prompt' or 'messages'"
                    : "has both 'prompt' and 'messages'; give one");
        }
        if (prompt != null && !prompt.isTextual()) {
            throw new IllegalArgumentException("field 'prompt' must be a string, got " + prompt.getNodeType());
        }
        JsonNode answer = present(node, "answer");
        if (answer != null && !answer.isValueNode()) {
            throw new IllegalArgumentException("field 'answer' must be a string or a number, got " + answer.getNodeType());
        }
        return new Problem(id.asText(), prompt == null ? null : prompt.asText(),
                messages == null ? null : turns(messages), answer == null ? null : answer.asText());
    }

    private static JsonNode present(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value;
    }

    private static List<Turn> turns(JsonNode messages) {
        if (!messages.isArray() || messages.isEmpty()) {
            throw new IllegalArgumentException("field 'messages' must be a non-empty array of {role, content}");
        }
        List<Turn> turns = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            JsonNode role = m.get("role");
            JsonNode content = m.get("content");
            if (role == null || !role.isTextual() || content == null || !content.isTextual()) {
                throw new IllegalArgumentException("messages[" + i + "] needs string fields 'role' and 'content'");
            }
            turns.add(new Turn(role.asText(), content.asText()));
        }
        return turns;
    }
}
