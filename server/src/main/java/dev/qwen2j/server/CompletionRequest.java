package dev.qwen2j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwen2j.model.GenerationOptions;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One /v1/chat/completions or /v1/completions request, read field by field as OpenAI documents them; a field of
 * the wrong type or out of range is a 400 naming it. Unknown fields are ignored, as SDKs send extras.
 *
 * @param model         the model id asked for
 * @param messages      chat messages as template maps (chat only, else null)
 * @param tools         tool definitions for the template, or null (none, or {@code tool_choice: "none"})
 * @param prompt        the raw prompt (completions only, else null)
 * @param options       generation options (max tokens, sampling, stop strings, seed, thinking budget)
 * @param n             choices to generate
 * @param stream        answer as Server-Sent Events
 * @param includeUsage  with stream: a last chunk carries the usage
 */
record CompletionRequest(String model, List<Map<String, Object>> messages, List<Map<String, Object>> tools,
                         String prompt, GenerationOptions options, int n, boolean stream, boolean includeUsage) {

    static final int MAX_N = 16;
    static final int MAX_STOP = 4;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** @param thinkingBudget the server's thinking budget for a request that sets none; 0 = no limit */
    static CompletionRequest parse(JsonNode body, boolean chat, int thinkingBudget) {
        if (body == null || !body.isObject()) {
            throw ApiException.invalid(null, "the request body must be a JSON object");
        }
        String model = text(body, "model", true);
        List<Map<String, Object>> messages = chat ? messages(body) : null;
        String prompt = chat ? null : prompt(body);
        List<Map<String, Object>> tools = chat ? tools(body) : null;

        GenerationOptions.Builder options = GenerationOptions.builder();
        Integer maxTokens = integer(body, "max_completion_tokens", 1, Integer.MAX_VALUE);
        if (maxTokens == null) {
            maxTokens = integer(body, "max_tokens", 1, Integer.MAX_VALUE);
        }
        if (maxTokens != null) {
            options.maxTokens(maxTokens);
        }
        Double d;
        if ((d = number(body, "temperature", 0, 2)) != null) {
            options.temperature(d);
        }
        if ((d = number(body, "top_p", Float.MIN_VALUE, 1)) != null) {
            options.topP(d);
        }
        if ((d = number(body, "min_p", 0, 1)) != null) {
            options.minP(d);
        }
        if ((d = number(body, "presence_penalty", -2, 2)) != null) {
            options.presencePenalty(d);
        }
        if ((d = number(body, "frequency_penalty", -2, 2)) != null) {
            options.frequencyPenalty(d);
        }
        if ((d = number(body, "repetition_penalty", Float.MIN_VALUE, Float.MAX_VALUE)) != null) {
            options.repetitionPenalty(d);
        }
        Integer topK = integer(body, "top_k", -1, Integer.MAX_VALUE);
        if (topK != null) {
            options.topK(Math.max(topK, 0)); // -1 is llama.cpp's and vLLM's "off"
        }
        JsonNode seed = present(body, "seed");
        if (seed != null) {
            if (!seed.canConvertToLong() || !seed.isIntegralNumber()) {
                throw ApiException.invalid("seed", "seed must be an integer, got " + seed);
            }
            options.seed(seed.longValue());
        }
        options.stopStrings(stop(body));
        Integer budget = integer(body, "thinking_token_budget", 1, Integer.MAX_VALUE); // vLLM's name
        if (budget != null || thinkingBudget > 0) {
            options.maxThinkingTokens(budget != null ? budget : thinkingBudget);
        }
        if (!chat && (present(body, "logprobs") != null || present(body, "top_logprobs") != null)) {
            throw new ApiException(400, "invalid_request_error", "logprobs", "unsupported_parameter",
                    "logprobs are supported on /v1/chat/completions only, not on the legacy /v1/completions");
        }
        boolean logprobs = chat && Boolean.TRUE.equals(bool(body, "logprobs"));
        Integer top = integer(body, "top_logprobs", 0, GenerationOptions.MAX_TOP_LOGPROBS);
        if (top != null && !logprobs) {
            throw ApiException.invalid("top_logprobs", "top_logprobs needs logprobs: true");
        }
        if (logprobs) {
            options.logprobs(top == null ? 0 : top);
        }
        Integer n = integer(body, "n", 1, MAX_N);
        boolean stream = Boolean.TRUE.equals(bool(body, "stream"));
        boolean includeUsage = false;
        JsonNode streamOptions = present(body, "stream_options");
        if (streamOptions != null) {
            if (!streamOptions.isObject()) {
                throw ApiException.invalid("stream_options", "stream_options must be an object");
            }
            includeUsage = Boolean.TRUE.equals(bool(streamOptions, "include_usage"));
        }
        return new CompletionRequest(model, messages, tools, prompt, options.build(), n == null ? 1 : n, stream,
                includeUsage);
    }

    private static List<Map<String, Object>> messages(JsonNode body) {
        JsonNode node = present(body, "messages");
        if (node == null || !node.isArray() || node.isEmpty()) {
            throw ApiException.invalid("messages", "messages must be a non-empty array of messages");
        }
        List<Map<String, Object>> messages = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode m = node.get(i);
            String param = "messages[" + i + "]";
            if (!m.isObject()) {
                throw ApiException.invalid(param, param + " must be an object");
            }
            JsonNode role = m.path("role");
            if (!role.isTextual() || !List.of("system", "developer", "user", "assistant", "tool").contains(role.asText())) {
                throw ApiException.invalid(param + ".role",
                        param + ".role must be one of system, developer, user, assistant, tool");
            }
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", role.asText().equals("developer") ? "system" : role.asText());
            map.put("content", content(m.path("content"), param + ".content"));
            JsonNode toolCalls = m.path("tool_calls");
            if (toolCalls.isArray() && !toolCalls.isEmpty()) {
                map.put("tool_calls", toolCalls(toolCalls, param + ".tool_calls"));
            } else if (map.get("content") == null) {
                throw ApiException.invalid(param + ".content", param + ".content must be a string or an array of text parts");
            }
            if (m.path("tool_call_id").isTextual()) {
                map.put("tool_call_id", m.get("tool_call_id").asText());
            }
            messages.add(map);
        }
        return messages;
    }

    /** A string, or an array of {"type":"text","text":…} parts joined; null when absent. */
    private static String content(JsonNode node, String param) {
        if (node.isMissingNode() || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isArray()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode part : node) {
                if (!part.path("text").isTextual()) {
                    throw ApiException.invalid(param, param + " parts must be text parts ({\"type\":\"text\",\"text\":…})");
                }
                text.append(part.get("text").asText());
            }
            return text.toString();
        }
        throw ApiException.invalid(param, param + " must be a string or an array of text parts");
    }

    /** OpenAI's tool calls as Qwen's template reads them: function name and arguments as an object. */
    private static List<Map<String, Object>> toolCalls(JsonNode calls, String param) {
        List<Map<String, Object>> result = new ArrayList<>();
        for (JsonNode call : calls) {
            JsonNode function = call.path("function");
            if (!function.path("name").isTextual()) {
                throw ApiException.invalid(param, param + "[].function.name must be a string");
            }
            Object arguments;
            try {
                JsonNode args = function.path("arguments");
                arguments = JSON.convertValue(args.isTextual() ? JSON.readTree(args.asText()) : args, Object.class);
            } catch (Exception e) {
                throw ApiException.invalid(param, param + "[].function.arguments must be JSON");
            }
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("name", function.get("name").asText());
            f.put("arguments", arguments);
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("type", "function");
            map.put("function", f);
            result.add(map);
        }
        return result;
    }

    private static List<Map<String, Object>> tools(JsonNode body) {
        JsonNode choice = present(body, "tool_choice");
        if (choice != null && !choice.isTextual() && !choice.isObject()) {
            throw ApiException.invalid("tool_choice", "tool_choice must be \"none\", \"auto\", \"required\" or an object");
        }
        JsonNode node = present(body, "tools");
        if (node == null || (choice != null && "none".equals(choice.asText()))) {
            return null;
        }
        if (!node.isArray()) {
            throw ApiException.invalid("tools", "tools must be an array of {\"type\":\"function\",\"function\":{…}}");
        }
        List<Map<String, Object>> tools = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode tool = node.get(i);
            if (!tool.path("function").path("name").isTextual()) {
                throw ApiException.invalid("tools[" + i + "].function.name", "tools[" + i + "].function.name must be a string");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> map = JSON.convertValue(tool, LinkedHashMap.class);
            map.putIfAbsent("type", "function");
            tools.add(map);
        }
        return tools.isEmpty() ? null : tools;
    }

    private static String prompt(JsonNode body) {
        JsonNode node = present(body, "prompt");
        if (node != null && node.isArray() && node.size() == 1 && node.get(0).isTextual()) {
            node = node.get(0);
        }
        if (node == null || !node.isTextual() || node.asText().isEmpty()) {
            throw ApiException.invalid("prompt", "prompt must be a non-empty string (or an array of one string)");
        }
        return node.asText();
    }

    private static List<String> stop(JsonNode body) {
        JsonNode node = present(body, "stop");
        if (node == null) {
            return List.of();
        }
        List<String> stops = new ArrayList<>();
        if (node.isTextual()) {
            stops.add(node.asText());
        } else if (node.isArray() && node.size() <= MAX_STOP) {
            for (JsonNode s : node) {
                if (!s.isTextual()) {
                    throw ApiException.invalid("stop", "stop must be a string or an array of up to 4 strings");
                }
                stops.add(s.asText());
            }
        } else {
            throw ApiException.invalid("stop", "stop must be a string or an array of up to " + MAX_STOP + " strings");
        }
        if (stops.contains("")) {
            throw ApiException.invalid("stop", "stop strings must not be empty");
        }
        return stops;
    }

    /** The field, or null when absent or JSON null (OpenAI treats null as unset). */
    private static JsonNode present(JsonNode body, String field) {
        JsonNode node = body.get(field);
        return node == null || node.isNull() ? null : node;
    }

    private static String text(JsonNode body, String field, boolean required) {
        JsonNode node = present(body, field);
        if (node == null) {
            if (required) {
                throw ApiException.invalid(field, field + " is required");
            }
            return null;
        }
        if (!node.isTextual()) {
            throw ApiException.invalid(field, field + " must be a string, got " + node.getNodeType().toString().toLowerCase());
        }
        return node.asText();
    }

    private static Boolean bool(JsonNode body, String field) {
        JsonNode node = present(body, field);
        if (node == null) {
            return null;
        }
        if (!node.isBoolean()) {
            throw ApiException.invalid(field, field + " must be a boolean, got " + node);
        }
        return node.booleanValue();
    }

    private static Double number(JsonNode body, String field, double min, double max) {
        JsonNode node = present(body, field);
        if (node == null) {
            return null;
        }
        if (!node.isNumber() || !(node.doubleValue() >= min && node.doubleValue() <= max)) {
            throw ApiException.invalid(field, field + " must be a number in [" + min + ", " + max + "], got " + node);
        }
        return node.doubleValue();
    }

    private static Integer integer(JsonNode body, String field, int min, int max) {
        JsonNode node = present(body, field);
        if (node == null) {
            return null;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt() || node.intValue() < min || node.intValue() > max) {
            throw ApiException.invalid(field, field + " must be an integer in [" + min + ", " + max + "], got " + node);
        }
        return node.intValue();
    }
}
