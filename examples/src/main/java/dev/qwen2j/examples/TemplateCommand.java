package dev.qwen2j.examples;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwen2j.core.chat.ChatTemplate;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
                        + "reasoning_content, tool_calls), or an object with \"messages\" (and \"tools\")."})
public final class TemplateCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR",
            description = "Model folder with tokenizer_config.json (or chat_template.jinja), or 'demo'.")
    String model;

    @Option(names = "--messages", required = true, paramLabel = "FILE.json", description = "The conversation.")
    Path messagesFile;

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
