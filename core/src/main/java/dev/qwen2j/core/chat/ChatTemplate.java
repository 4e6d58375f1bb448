package dev.qwen2j.core.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model's chat template, rendered as transformers' {@code apply_chat_template} renders it: Jinja2 with
 * {@code trim_blocks} and {@code lstrip_blocks}, {@code raise_exception}, {@code strftime_now}, transformers'
 * {@code tojson}, the special tokens ({@code bos_token}, {@code eos_token}, ...) as variables, and any extra
 * keyword such as {@code enable_thinking}.
 *
 * <p>Rendering runs on qwen2j's own Jinja2 interpreter ({@link JinjaParser}, {@link Interpreter}): Jinja2's
 * grammar and whitespace rules, Python's values and printing, Jinja2's filters and tests, in a sandbox with
 * {@link TemplateLimits}. A template Jinja2 rejects, a {@code raise_exception(...)}, or a limit reached is a
 * {@link ChatTemplateException}. Thread-safe: the parsed template is immutable and each render is independent.
 */
public final class ChatTemplate {

    private static final Logger LOG = LoggerFactory.getLogger(ChatTemplate.class);

    /** transformers' former default template, used when a model has none. */
    static final String CHATML = "{% for message in messages %}"
            + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
            + "{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private static final String[] SPECIAL_TOKEN_KEYS = {
            "bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"};

    private final String source;
    /** Where the template came from, for error messages: a file, or "chat template". */
    private final String name;
    private final Parsed parsed;
    /** The "tool_use" template of a named-template list, used when tools are given; else null. */
    private final Parsed parsedToolUse;
    private final Map<String, Object> specialTokens;
    private final TemplateLimits limits;
    private final Supplier<LocalDateTime> clock;

    /** A parsed template, or the error Jinja2 would raise compiling it (raised when it is rendered). */
    private record Parsed(List<JinjaNode.Stmt> body, TemplateError error) {
        static Parsed of(String source) {
            try {
                return new Parsed(JinjaParser.parse(source), null);
            } catch (TemplateError e) {
                return new Parsed(null, e);
            } catch (StackOverflowError e) { // e.g. thousands of nested parentheses
                return new Parsed(null, new TemplateError("TemplateSyntaxError", "the template nests too deeply to parse"));
            }
        }
    }

    private ChatTemplate(String source, String toolUseSource, Map<String, Object> specialTokens, String name) {
        this(source, name, Parsed.of(source), toolUseSource == null ? null : Parsed.of(toolUseSource),
                Map.copyOf(specialTokens), TemplateLimits.DEFAULT, LocalDateTime::now);
    }

    private ChatTemplate(String source, String name, Parsed parsed, Parsed parsedToolUse,
                         Map<String, Object> specialTokens, TemplateLimits limits, Supplier<LocalDateTime> clock) {
        this.source = source;
        this.name = name;
        this.parsed = parsed;
        this.parsedToolUse = parsedToolUse;
        this.specialTokens = specialTokens;
        this.limits = limits;
        this.clock = clock;
    }

    /** This template under other sandbox limits. */
    public ChatTemplate withLimits(TemplateLimits limits) {
        return new ChatTemplate(source, name, parsed, parsedToolUse, specialTokens, limits, clock);
    }

    /** This template with strftime_now reading {@code clock} (tests pin the time so renderings are stable). */
    ChatTemplate withClock(Supplier<LocalDateTime> clock) {
        return new ChatTemplate(source, name, parsed, parsedToolUse, specialTokens, limits, clock);
    }

    /**
     * A template given as text, with the special tokens it may refer to (e.g. {@code eos_token}); null values
     * are left out, as transformers leaves out unset special tokens.
     */
    public static ChatTemplate of(String template, Map<String, ?> specialTokens) {
        Map<String, Object> tokens = new HashMap<>();
        if (specialTokens != null) {
            specialTokens.forEach((k, v) -> {
                if (v != null) {
                    tokens.put(k, v);
                }
            });
        }
        return new ChatTemplate(template, null, tokens, "chat template");
    }

    /**
     * Loads the template of a Hugging Face model folder: {@code chat_template.jinja} when present (newer
     * transformers saves it there), else {@code chat_template} in {@code tokenizer_config.json} (a string, or
     * a list of named templates: "default", and "tool_use" when tools are given and there is one, as
     * transformers picks them). Without either: ChatML, with a warning.
     */
    public static ChatTemplate load(Path folder) throws IOException {
        Path configFile = folder.resolve("tokenizer_config.json");
        Map<String, Object> tokens = new HashMap<>();
        String template = null;
        String toolUse = null;
        String name = folder.toString();
        if (Files.isRegularFile(configFile)) {
            JsonNode config;
            try {
                config = new ObjectMapper().readTree(configFile.toFile());
            } catch (IOException e) {
                throw new IOException(configFile + ": not valid JSON: " + e.getMessage(), e);
            }
            if (config == null || !config.isObject()) {
                throw new IOException(configFile + ": expected a JSON object");
            }
            for (String key : SPECIAL_TOKEN_KEYS) {
                String token = tokenText(config.get(key));
                if (token != null) {
                    tokens.put(key, token);
                }
            }
            JsonNode additional = config.get("additional_special_tokens");
            if (additional != null && additional.isArray()) {
                List<String> names = new java.util.ArrayList<>();
                additional.forEach(t -> names.add(tokenText(t)));
                tokens.put("additional_special_tokens", names);
            }
            template = templateText(config.get("chat_template"), "default", configFile);
            toolUse = templateText(config.get("chat_template"), "tool_use", configFile);
            name = configFile + " chat_template";
        }
        Path jinjaFile = folder.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinjaFile)) {
            template = Files.readString(jinjaFile);
            toolUse = null;
            name = jinjaFile.toString();
        }
        if (template == null) {
            LOG.warn("{} has no chat_template; using ChatML", folder);
            template = CHATML;
            name = "ChatML (default)";
        }
        return new ChatTemplate(template, toolUse, tokens, name);
    }

    /** The special tokens in tokenizer_config.json are strings or AddedToken objects with a "content". */
    private static String tokenText(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isObject() && node.has("content")) {
            return node.get("content").asText();
        }
        return node.isTextual() ? node.asText() : null;
    }

    /** The template of that name; a plain string template is the "default" one. */
    private static String templateText(JsonNode node, String name, Path configFile) throws IOException {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return name.equals("default") ? node.asText() : null;
        }
        if (node.isArray()) {
            for (JsonNode named : node) {
                if (name.equals(named.path("name").asText()) && named.path("template").isTextual()) {
                    return named.get("template").asText();
                }
            }
            if (name.equals("default")) {
                throw new IOException(configFile + ": chat_template is a list without a template named \"default\"");
            }
            return null;
        }
        throw new IOException(configFile + ": chat_template must be a string or a list of named templates");
    }

    /**
     * Renders the conversation.
     *
     * @param messages maps with {@code role}, {@code content} and optionally {@code reasoning_content},
     *                 {@code tool_calls}, ... as transformers takes them (use insertion-ordered maps: the
     *                 template may print them as JSON)
     * @param tools tool definitions (JSON-schema maps), or null for none
     * @param addGenerationPrompt whether to open the assistant's turn at the end
     * @param extraVariables further template variables (e.g. {@code enable_thinking}), or null
     * @throws ChatTemplateException when the template raises or cannot be rendered
     */
    public String render(List<Map<String, Object>> messages, List<Map<String, Object>> tools,
                         boolean addGenerationPrompt, Map<String, Object> extraVariables) {
        if (messages == null) {
            throw new IllegalArgumentException("messages must not be null");
        }
        Map<String, Object> context = new LinkedHashMap<>(specialTokens);
        if (extraVariables != null) {
            context.putAll(extraVariables);
        }
        context.put("messages", messages);
        context.put("tools", tools);
        context.putIfAbsent("documents", null);
        context.put("add_generation_prompt", addGenerationPrompt);
        try {
            return renderParsed(tools != null && parsedToolUse != null ? parsedToolUse : parsed, context);
        } catch (ChatTemplateException e) {
            String culprit = unusualContent(messages);
            throw culprit == null || e.line() == 0 ? e
                    : new ChatTemplateException(e.getMessage() + " (" + culprit + ")", e.line(), e);
        }
    }

    /**
     * Renders the template with exactly these variables (and the special tokens), as
     * {@code template.render(**variables)} does: for template authors and tests, not only conversations.
     */
    public String renderVariables(Map<String, ?> variables) {
        Map<String, Object> context = new LinkedHashMap<>(specialTokens);
        context.putAll(variables);
        return renderParsed(parsed, context);
    }

    private String renderParsed(Parsed template, Map<String, Object> context) {
        try {
            if (template.error() != null) {
                throw template.error();
            }
            return new Interpreter(limits, clock).render(template.body(), context);
        } catch (TemplateError e) {
            throw new ChatTemplateException(name + ", line " + e.line + ": " + e.pythonType + ": " + e.getMessage(),
                    e.line, e);
        } catch (StackOverflowError e) {
            throw new ChatTemplateException(name + ": nested too deeply to render", 0, null);
        } catch (ChatTemplateException e) {
            throw e;
        } catch (RuntimeException e) { // a value the interpreter did not expect: still one clear error, not a crash
            throw new ChatTemplateException(name + ": cannot render: " + e, 0, e);
        }
    }

    /** A message whose content is neither text, a list of parts, nor None: the usual cause of a TypeError. */
    private static String unusualContent(List<Map<String, Object>> messages) {
        for (int i = 0; i < messages.size(); i++) {
            Object content = messages.get(i) == null ? null : messages.get(i).get("content");
            if (content != null && !(content instanceof String) && !(content instanceof List<?>)) {
                return "messages[" + i + "].content is " + Py.typeName(content) + " " + Py.repr(content)
                        + ", not a string";
            }
        }
        return null;
    }

    /** The template text as the model ships it. */
    public String source() {
        return source;
    }

}
