package dev.qwen2j.core.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jinjava.javax.el.CompositeELResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model's chat template, rendered as transformers' {@code apply_chat_template} renders it: Jinja2 with
 * {@code trim_blocks} and {@code lstrip_blocks}, {@code raise_exception}, {@code strftime_now}, transformers'
 * {@code tojson}, the special tokens ({@code bos_token}, {@code eos_token}, ...) as variables, and any extra
 * keyword such as {@code enable_thinking}.
 *
 * <p>Rendering runs on jinjava. What Jinja2 templates use and jinjava lacks is added around it: Python string
 * and dict methods ({@link PythonMethods}), stepped slices and filtered keyword arguments
 * ({@link JinjaSource}), Python's JSON spelling ({@link PythonJson}). Thread-safe: each render is independent.
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
    private final String prepared;
    /** The "tool_use" template of a named-template list, used when tools are given; else null. */
    private final String preparedToolUse;
    private final Map<String, Object> specialTokens;

    private ChatTemplate(String source, String toolUseSource, Map<String, Object> specialTokens) {
        this.source = source;
        this.prepared = JinjaSource.prepare(source);
        this.preparedToolUse = toolUseSource == null ? null : JinjaSource.prepare(toolUseSource);
        this.specialTokens = Map.copyOf(specialTokens);
    }

    /** One engine for all templates: its configuration never changes and rendering keeps no state in it. */
    private static final class Engine {
        static final Jinjava JINJAVA = newEngine();
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
        return new ChatTemplate(template, null, tokens);
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
        }
        Path jinjaFile = folder.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinjaFile)) {
            template = Files.readString(jinjaFile);
            toolUse = null;
        }
        if (template == null) {
            LOG.warn("{} has no chat_template; using ChatML", folder);
            template = CHATML;
        }
        return new ChatTemplate(template, toolUse, tokens);
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

    private static Jinjava newEngine() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withNestedInterpretationEnabled(false) // message text is data, never template
                .withFailOnUnknownTokens(false)
                .withElResolver(resolver)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true) // {{- x }} trims as in Jinja2
                        .withUsePyishObjectMapper(true) // {{ dict }} prints as Python would
                        .withKeepNullableLoopValues(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .build())
                .build();
        Jinjava jinjava = new Jinjava(config);
        TemplateGlobals.register(jinjava);
        return jinjava;
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
        context.put("documents", null);
        context.put("add_generation_prompt", addGenerationPrompt);
        RenderResult result;
        try {
            result = Engine.JINJAVA.renderForResult(tools != null && preparedToolUse != null ? preparedToolUse : prepared, context);
        } catch (ChatTemplateException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ChatTemplateException(templateMessage(e), e);
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                ChatTemplateException raised = raisedBy(error.getException());
                throw raised != null ? raised : new ChatTemplateException(error.getMessage(), error.getException());
            }
        }
        return result.getOutput();
    }

    /** The template text as the model ships it. */
    public String source() {
        return source;
    }

    private static ChatTemplateException raisedBy(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ChatTemplateException e) {
                return new ChatTemplateException(e.getMessage(), e);
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return null;
    }

    private static String templateMessage(Throwable t) {
        ChatTemplateException raised = raisedBy(t);
        return raised != null ? raised.getMessage() : String.valueOf(t.getMessage());
    }
}
