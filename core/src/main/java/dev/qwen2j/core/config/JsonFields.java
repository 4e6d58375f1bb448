package dev.qwen2j.core.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Typed reads of one JSON config object, with errors that name the file and the field. */
final class JsonFields {

    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build());

    private final Path file;
    private final JsonNode root;
    private final String prefix;

    private JsonFields(Path file, JsonNode root, String prefix) {
        this.file = file;
        this.root = root;
        this.prefix = prefix;
    }

    static JsonFields read(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (JacksonException e) {
            throw new ConfigException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(file + ": not a JSON object");
        }
        return new JsonFields(file, root, "");
    }

    Path file() {
        return file;
    }

    /** The value of {@code field}, or null when absent or JSON null. */
    JsonNode node(String field) {
        JsonNode node = root.get(field);
        return node == null || node.isNull() ? null : node;
    }

    boolean has(String field) {
        return node(field) != null;
    }

    ConfigException error(String field, String problem) {
        return ConfigException.inField(file, prefix + field, problem);
    }

    int requiredInt(String field) throws ConfigException {
        if (!has(field)) {
            throw error(field, "missing");
        }
        return optionalInt(field, 0);
    }

    int optionalInt(String field, int fallback) throws ConfigException {
        JsonNode node = node(field);
        if (node == null) {
            return fallback;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw error(field, "expected an integer, found " + node);
        }
        return node.intValue();
    }

    Integer nullableInt(String field) throws ConfigException {
        return has(field) ? optionalInt(field, 0) : null;
    }

    double optionalDouble(String field, double fallback) throws ConfigException {
        JsonNode node = node(field);
        if (node == null) {
            return fallback;
        }
        if (!node.isNumber()) {
            throw error(field, "expected a number, found " + node);
        }
        return node.doubleValue();
    }

    Double nullableDouble(String field) throws ConfigException {
        return has(field) ? optionalDouble(field, 0) : null;
    }

    boolean optionalBoolean(String field, boolean fallback) throws ConfigException {
        JsonNode node = node(field);
        if (node == null) {
            return fallback;
        }
        if (!node.isBoolean()) {
            throw error(field, "expected true or false, found " + node);
        }
        return node.booleanValue();
    }

    Boolean nullableBoolean(String field) throws ConfigException {
        return has(field) ? optionalBoolean(field, false) : null;
    }

    String optionalString(String field, String fallback) throws ConfigException {
        JsonNode node = node(field);
        if (node == null) {
            return fallback;
        }
        if (!node.isTextual()) {
            throw error(field, "expected a string, found " + node);
        }
        return node.textValue();
    }

    /** An id field that may be one integer or a list of integers (eos_token_id); absent → empty. */
    int[] intOrIntList(String field) throws ConfigException {
        JsonNode node = node(field);
        if (node == null) {
            return new int[0];
        }
        if (node.isIntegralNumber() && node.canConvertToInt()) {
            return new int[] {node.intValue()};
        }
        if (node.isArray()) {
            int[] values = new int[node.size()];
            for (int i = 0; i < values.length; i++) {
                JsonNode element = node.get(i);
                if (!element.isIntegralNumber() || !element.canConvertToInt()) {
                    throw error(field, "expected an integer or a list of integers, found " + node);
                }
                values[i] = element.intValue();
            }
            return values;
        }
        throw error(field, "expected an integer or a list of integers, found " + node);
    }

    /** A nested object field as its own reader, or null when absent. */
    JsonFields object(String field) throws ConfigException {
        JsonNode node = node(field);
        if (node == null) {
            return null;
        }
        if (!node.isObject()) {
            throw error(field, "expected a JSON object, found " + node);
        }
        return new JsonFields(file, node, prefix + field + ".");
    }
}
