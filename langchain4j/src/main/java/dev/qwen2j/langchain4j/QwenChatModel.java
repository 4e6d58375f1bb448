package dev.qwen2j.langchain4j;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.internal.JsonSchemaElementJsonUtils;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.DefaultChatRequestParameters;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import dev.qwen2j.core.chat.AssistantOutput;
import dev.qwen2j.core.chat.ChatTemplate;
import dev.qwen2j.core.chat.RenderedPrompt;
import dev.qwen2j.core.chat.ToolCallParser.ToolCall;
import dev.qwen2j.model.GenerationListener;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.GenerationResult;
import dev.qwen2j.model.Model;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * LangChain4j's {@link ChatModel} and {@link StreamingChatModel} on an in-process qwen2j {@link Model}: messages
 * (system, user, assistant with its tool calls, tool results) go through the model's chat template, tool
 * specifications become the template's tools and {@code <tool_call>} output becomes tool execution requests; the
 * thought between {@code <think>} markers is kept apart as the message's thinking.
 *
 * <pre>{@code
 * try (Model model = Model.load(folder)) {
 *     QwenChatModel chat = new QwenChatModel(model, GenerationOptions.defaults());
 *     System.out.println(chat.chat("What is 358+479?"));
 * }
 * }</pre>
 *
 * Thread-safe, as the model is. Streaming runs on a virtual thread of its own and reports to the handler there.
 */
public final class QwenChatModel implements ChatModel, StreamingChatModel {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Model model;
    private final ChatTemplate template;
    private final GenerationOptions defaults;

    /**
     * @param defaults options for whatever a request leaves unset (max tokens, sampling, seed)
     * @throws IOException when the model folder's chat template cannot be read
     */
    public QwenChatModel(Model model, GenerationOptions defaults) throws IOException {
        this.model = Objects.requireNonNull(model, "model");
        this.defaults = Objects.requireNonNull(defaults, "defaults");
        this.template = ChatTemplate.load(model.folder());
    }

    // Both interfaces default these; one answer for both.
    @Override
    public Set<Capability> supportedCapabilities() {
        return Set.of();
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return DefaultChatRequestParameters.EMPTY;
    }

    @Override
    public List<ChatModelListener> listeners() {
        return List.of();
    }

    @Override
    public ModelProvider provider() {
        return ModelProvider.OTHER;
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        return run(request, null);
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        Thread.ofVirtual().name("qwen2j-langchain4j-stream").start(() -> {
            ChatResponse response;
            try {
                response = run(request, handler);
            } catch (RuntimeException | Error e) {
                handler.onError(e);
                return;
            }
            handler.onCompleteResponse(response);
        });
    }

    private ChatResponse run(ChatRequest request, StreamingChatResponseHandler handler) {
        ChatRequestParameters parameters = request.parameters();
        List<Map<String, Object>> tools = parameters.toolChoice() == ToolChoice.NONE ? null
                : tools(parameters.toolSpecifications());
        RenderedPrompt prompt = RenderedPrompt.chat(template, messages(request.messages()), tools);
        AssistantOutput output = new AssistantOutput(prompt, tools != null, new AssistantOutput.Sink() {
            @Override
            public void reasoning(String text) {
                if (handler != null) {
                    handler.onPartialThinking(new PartialThinking(text));
                }
            }

            @Override
            public void content(String text) {
                if (handler != null) {
                    handler.onPartialResponse(text);
                }
            }
        });
        GenerationResult result = model.generate(prompt.text(), options(parameters), (GenerationListener) output::accept);
        output.finish();
        List<ToolExecutionRequest> calls = new ArrayList<>();
        for (ToolCall call : output.toolCalls()) {
            calls.add(ToolExecutionRequest.builder().id("call_" + UUID.randomUUID()).name(call.name())
                    .arguments(call.arguments()).build());
        }
        AiMessage.Builder message = AiMessage.builder().text(output.content().isEmpty() && !calls.isEmpty() ? null
                : output.content());
        if (!output.reasoning().isEmpty()) {
            message.thinking(output.reasoning());
        }
        if (!calls.isEmpty()) {
            message.toolExecutionRequests(calls);
        }
        FinishReason finish = !calls.isEmpty() ? FinishReason.TOOL_EXECUTION
                : switch (result.finishReason()) {
                    case EOS, STOP -> FinishReason.STOP;
                    case LENGTH -> FinishReason.LENGTH;
                    case CANCELLED -> FinishReason.OTHER;
                };
        return ChatResponse.builder().aiMessage(message.build()).modelName(model.folder().getFileName().toString())
                .tokenUsage(new TokenUsage(result.promptTokens(), result.generatedTokens())).finishReason(finish)
                .build();
    }

    /** The request's parameters over this model's defaults; the raw template text is fed as is. */
    private GenerationOptions options(ChatRequestParameters p) {
        GenerationOptions.Builder b = defaults.toBuilder().chat(false);
        if (p.temperature() != null) {
            b.temperature(p.temperature());
        }
        if (p.topP() != null) {
            b.topP(p.topP());
        }
        if (p.topK() != null) {
            b.topK(p.topK());
        }
        if (p.frequencyPenalty() != null) {
            b.frequencyPenalty(p.frequencyPenalty());
        }
        if (p.presencePenalty() != null) {
            b.presencePenalty(p.presencePenalty());
        }
        if (p.maxOutputTokens() != null) {
            b.maxTokens(p.maxOutputTokens());
        }
        if (p.stopSequences() != null && !p.stopSequences().isEmpty()) {
            b.stopStrings(p.stopSequences());
        }
        return b.build();
    }

    /** LangChain4j's messages as the chat template reads them (transformers' keys). */
    static List<Map<String, Object>> messages(List<ChatMessage> messages) {
        List<Map<String, Object>> maps = new ArrayList<>(messages.size());
        for (ChatMessage message : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            switch (message) {
                case SystemMessage m -> {
                    map.put("role", "system");
                    map.put("content", m.text());
                }
                case UserMessage m -> {
                    if (!m.hasSingleText()) {
                        throw new IllegalArgumentException("messages: a user message must be text only (qwen2j "
                                + "models read text)");
                    }
                    map.put("role", "user");
                    map.put("content", m.singleText());
                }
                case AiMessage m -> {
                    map.put("role", "assistant");
                    // A tool-calling turn has no text; Qwen's templates test `'</think>' in content`, which fails
                    // on None in Jinja2 as in Python, so it is the empty string (as transformers' users pass it).
                    map.put("content", m.text() == null ? "" : m.text());
                    if (m.hasToolExecutionRequests()) {
                        map.put("tool_calls", toolCalls(m.toolExecutionRequests()));
                    }
                }
                case ToolExecutionResultMessage m -> {
                    map.put("role", "tool");
                    map.put("content", m.text());
                }
                default -> throw new IllegalArgumentException("messages: unsupported message type " + message.type());
            }
            maps.add(map);
        }
        return maps;
    }

    private static List<Map<String, Object>> toolCalls(List<ToolExecutionRequest> requests) {
        List<Map<String, Object>> calls = new ArrayList<>();
        for (ToolExecutionRequest r : requests) {
            Map<String, Object> function = new LinkedHashMap<>();
            function.put("name", r.name());
            try {
                function.put("arguments", JSON.readValue(r.arguments() == null ? "{}" : r.arguments(), Object.class));
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("messages: tool call '" + r.name() + "' has arguments that are "
                        + "not JSON: " + r.arguments(), e);
            }
            calls.add(Map.of("type", "function", "function", function));
        }
        return calls;
    }

    /** Tool specifications as OpenAI-style function tools, which Qwen's template prints; null for none. */
    static List<Map<String, Object>> tools(List<ToolSpecification> specifications) {
        if (specifications == null || specifications.isEmpty()) {
            return null;
        }
        List<Map<String, Object>> tools = new ArrayList<>();
        for (ToolSpecification spec : specifications) {
            Map<String, Object> function = new LinkedHashMap<>();
            function.put("name", spec.name());
            if (spec.description() != null) {
                function.put("description", spec.description());
            }
            function.put("parameters", spec.parameters() == null ? Map.of("type", "object", "properties", Map.of())
                    : JsonSchemaElementJsonUtils.toMap(spec.parameters()));
            Map<String, Object> tool = new LinkedHashMap<>();
            tool.put("type", "function");
            tool.put("function", function);
            tools.add(tool);
        }
        return tools;
    }
}
