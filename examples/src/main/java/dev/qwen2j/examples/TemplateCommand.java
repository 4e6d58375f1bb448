package dev.qwen2j.examples;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.qwen2j.core.chat.ChatTemplate;
import dev.qwen2j.core.chat.ChatTemplateException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qwen2j template}: the prompt a model's chat template makes of a conversation, printed exactly as
 * transformers' {@code apply_chat_template(..., tokenize=False)} would return it (no newline added).
 */
@Command(name = "template",
        mixinStandardHelpOptions = true,
        description = {"Render a conversation with the model's chat template and print the prompt exactly.",
                "--messages: a JSON array of messages ({\"role\": ..., \"content\": ...}, optionally "
                        + "reasoning_content, tool_calls), or an object with \"messages\" (and \"tools\").",
                "--template FILE --context FILE.json: render any template; the JSON object's keys are its variables.",
                "--batch FILE.jsonl: one {\"template\": ..., \"context\": {...}} per line; prints one JSON line per "
                        + "input, {\"output\": ...} or {\"error\": ...}, in order."})
public final class TemplateCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = {"-m", "--model"}, paramLabel = "DIR",
            description = "Model folder with tokenizer_config.json (or chat_template.jinja), or 'demo'.")
    String model;

    @Option(names = "--messages", paramLabel = "FILE.json", description = "The conversation (with --model).")
    Path messagesFile;

    @Option(names = "--template", paramLabel = "FILE", description = "A Jinja template file to render with --context.")
    Path templateFile;

    @Option(names = "--context", paramLabel = "FILE.json",
            description = "A JSON object whose keys become the template's variables (with --template; default {}).")
    Path contextFile;

    @Option(names = "--batch", paramLabel = "FILE.jsonl",
            description = "Render one {\"template\": ..., \"context\": {...}} per line, printing a JSON line for each.")
    Path batchFile;

    @Option(names = "--tools", paramLabel = "FILE.json", description = "A JSON array of tool definitions.")
    Path toolsFile;

    @Option(names = "--no-generation-prompt",
            description = "Do not open the assistant's turn at the end (add_generation_prompt=False).")
    boolean noGenerationPrompt;

    @Option(names = "--var", paramLabel = "NAME=VALUE",
            description = "A further template variable, e.g. --var enable_thinking=false (VALUE is read as JSON "
                    + "when it parses, else as text).")
    Map<String, String> variables = new LinkedHashMap<>();

    @Mixin
    CommandErrors.Verbosity verbosity;

    @Override
    public Integer call() throws IOException {
        if (batchFile != null) {
            requireNone("--batch", model, messagesFile, templateFile, contextFile);
            return batch();
        }
        if (templateFile != null) {
            requireNone("--template", model, messagesFile, null, null);
            return renderTemplateFile();
        }
        if (contextFile != null) {
            throw new IllegalArgumentException("--context goes with --template FILE");
        }
        if (model == null || messagesFile == null) {
            throw new IllegalArgumentException("give --model DIR --messages FILE.json, --template FILE [--context "
                    + "FILE.json], or --batch FILE.jsonl");
        }
        Path folder = ModelPaths.resolve(model);
        JsonNode conversation = readJson(messagesFile);
        JsonNode messagesNode = conversation.isObject() ? conversation.get("messages") : conversation;
        List<Map<String, Object>> messages = listOfObjects(messagesNode, messagesFile, "messages");
        List<Map<String, Object>> tools = null;
        if (toolsFile != null) {
            tools = listOfObjects(readJson(toolsFile), toolsFile, "tools");
        } else if (conversation.isObject() && conversation.hasNonNull("tools")) {
            tools = listOfObjects(conversation.get("tools"), messagesFile, "tools");
        }
        Map<String, Object> extra = new LinkedHashMap<>();
        variables.forEach((name, value) -> extra.put(name, jsonOrText(value)));
        String prompt = ChatTemplate.load(folder).render(messages, tools, !noGenerationPrompt, extra);
        // Bytes out: the terminal's platform charset must not touch the prompt.
        System.out.write(prompt.getBytes(StandardCharsets.UTF_8));
        System.out.flush();
        return 0;
    }

    private static void requireNone(String mode, Object... others) {
        for (Object o : others) {
            if (o != null) {
                throw new IllegalArgumentException(mode + " cannot be combined with --model, --messages"
                        + (mode.equals("--batch") ? ", --template or --context" : ""));
            }
        }
    }

    private int renderTemplateFile() throws IOException {
        String template = Files.readString(templateFile);
        Map<String, Object> context = Map.of();
        if (contextFile != null) {
            JsonNode node = readJson(contextFile);
            if (!node.isObject()) {
                throw new IOException(contextFile + ": expected a JSON object (its keys become the template's variables)");
            }
            context = JSON.convertValue(node, new TypeReference<LinkedHashMap<String, Object>>() { });
        }
        String output;
        try {
            output = ChatTemplate.of(template, Map.of()).renderVariables(context);
        } catch (ChatTemplateException e) {
            throw new ChatTemplateException(templateFile + ": " + e.getMessage(), e.line(), e);
        }
        System.out.write(output.getBytes(StandardCharsets.UTF_8));
        System.out.flush();
        return 0;
    }

    /** One result line per input line, in order; a bad line is an error line, not the end of the batch. */
    private int batch() throws IOException {
        List<String> lines = Files.readAllLines(batchFile, StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            Map<String, String> result = new LinkedHashMap<>();
            try {
                result.put("output", renderBatchLine(lines.get(i)));
            } catch (ChatTemplateException | IOException e) {
                result.put("error", batchFile.getFileName() + " line " + (i + 1) + ": " + e.getMessage());
            }
            out.append(JSON.writeValueAsString(result)).append('\n');
        }
        System.out.write(out.toString().getBytes(StandardCharsets.UTF_8));
        System.out.flush();
        return 0;
    }

    private static String renderBatchLine(String line) throws IOException {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IOException("not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (node == null || !node.isObject() || !node.path("template").isTextual()) {
            throw new IOException("expected {\"template\": \"...\", \"context\": {...}}");
        }
        JsonNode context = node.path("context");
        if (!context.isMissingNode() && !context.isNull() && !context.isObject()) {
            throw new IOException("\"context\" must be a JSON object");
        }
        Map<String, Object> variables = context.isObject()
                ? JSON.convertValue(context, new TypeReference<LinkedHashMap<String, Object>>() { }) : Map.of();
        return ChatTemplate.of(node.get("template").asText(), Map.of()).renderVariables(variables);
    }

    private static JsonNode readJson(Path file) throws IOException {
        try {
            return JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON (" + e.getOriginalMessage() + ")", e);
        }
    }

    private static List<Map<String, Object>> listOfObjects(JsonNode node, Path file, String what) throws IOException {
        if (node == null || !node.isArray()) {
            throw new IOException(file + ": expected " + what + " as a JSON array of objects");
        }
        List<Map<String, Object>> list = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            if (!node.get(i).isObject()) {
                throw new IOException(file + ": " + what + "[" + i + "] is not a JSON object");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> item = JSON.convertValue(node.get(i), LinkedHashMap.class);
            list.add(item);
        }
        return list;
    }

    private static Object jsonOrText(String value) {
        try {
            return JSON.readValue(value, Object.class);
        } catch (JsonProcessingException e) {
            return value;
        }
    }
}
