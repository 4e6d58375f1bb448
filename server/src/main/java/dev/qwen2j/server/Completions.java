package dev.qwen2j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwen2j.core.chat.ChatTemplateException;
import dev.qwen2j.core.chat.AssistantOutput;
import dev.qwen2j.core.chat.RenderedPrompt;
import dev.qwen2j.core.chat.ToolCallParser.ToolCall;
import dev.qwen2j.model.ContextLengthExceededException;
import dev.qwen2j.model.FinishReason;
import dev.qwen2j.model.ContinuousBatch;
import dev.qwen2j.model.GenerationResult;
import dev.qwen2j.model.TokenLogprobs;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Answers one completion request: renders the prompt, waits for room for its {@code n} choices, generates them
 * together (one prefill of the prompt, choice i with the seed + i) and writes either one JSON body or the stream of
 * chunks, each choice's chunks as they come.
 */
final class Completions {

    private final Generator generator;
    private final Scheduler scheduler;
    private final ServerMetrics metrics;
    private final ObjectMapper json;

    Completions(Generator generator, Scheduler scheduler, ServerMetrics metrics, ObjectMapper json) {
        this.generator = generator;
        this.scheduler = scheduler;
        this.metrics = metrics;
        this.json = json;
    }

    /** One choice's outcome; {@code logprobs} null unless asked for. */
    private record Choice(String reasoning, String content, List<ToolCall> toolCalls, ArrayNode logprobs,
                          GenerationResult result) {
    }

    void answer(CompletionRequest request, boolean chat, EventStream out, long arrivalNanos) {
        if (!request.model().equals(generator.modelName())) {
            throw new ApiException(404, "invalid_request_error", "model", "model_not_found",
                    "the model '" + request.model() + "' does not exist; this server serves '"
                            + generator.modelName() + "'");
        }
        RenderedPrompt prompt;
        try {
            prompt = chat ? generator.chatPrompt(request.messages(), request.tools())
                    : generator.textPrompt(request.prompt());
        } catch (ChatTemplateException e) {
            throw ApiException.invalid("messages", "the chat template refused the messages: " + e.getMessage());
        }
        String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID();
        long created = System.currentTimeMillis() / 1000;
        Chunks chunks = new Chunks(id, created, chat);
        List<ChoiceStream> streams = new ArrayList<>(request.n());
        for (int i = 0; i < request.n(); i++) {
            streams.add(new ChoiceStream(request, prompt, i, chunks, out, arrivalNanos));
        }
        scheduler.run(request.n(), () -> {
            if (request.stream() && chat) {
                for (int i = 0; i < request.n(); i++) {
                    out.event(chunks.delta(i, "role", "assistant").toString());
                }
            }
            try {
                generator.generate(prompt, request.options(), streams);
            } catch (ContextLengthExceededException e) {
                throw new ApiException(400, "invalid_request_error", "messages", "context_length_exceeded",
                        e.getMessage());
            }
            return null;
        });
        List<Choice> choices = new ArrayList<>(streams.size());
        for (ChoiceStream stream : streams) {
            choices.add(stream.choice);
        }
        int promptTokens = choices.isEmpty() ? 0 : choices.getFirst().result().promptTokens();
        int completionTokens = 0;
        for (Choice c : choices) {
            completionTokens += c.result().generatedTokens();
        }
        int cachedTokens = choices.isEmpty() ? 0 : choices.getFirst().result().cachedTokens();
        metrics.tokens(promptTokens, completionTokens, cachedTokens);
        ObjectNode usage = json.createObjectNode().put("prompt_tokens", promptTokens)
                .put("completion_tokens", completionTokens).put("total_tokens", promptTokens + completionTokens);
        usage.putObject("prompt_tokens_details").put("cached_tokens", cachedTokens); // OpenAI's prompt caching field
        if (request.stream()) {
            if (request.includeUsage()) {
                ObjectNode last = chunks.chunk();
                last.putArray("choices");
                last.set("usage", usage);
                out.event(last.toString());
            }
            out.event("[DONE]");
            return;
        }
        ObjectNode body = chunks.header(chat ? "chat.completion" : "text_completion");
        ArrayNode array = body.putArray("choices");
        for (int i = 0; i < choices.size(); i++) {
            Choice c = choices.get(i);
            ObjectNode choice = array.addObject().put("index", i);
            if (chat) {
                ObjectNode message = choice.putObject("message").put("role", "assistant");
                message.put("content", c.content().isBlank() && !c.toolCalls().isEmpty() ? null : c.content());
                if (!c.reasoning().isEmpty()) {
                    message.put("reasoning_content", c.reasoning());
                }
                if (!c.toolCalls().isEmpty()) {
                    message.set("tool_calls", toolCalls(c.toolCalls(), false));
                }
            } else {
                choice.put("text", c.content());
            }
            choice.set("logprobs", logprobs(c.logprobs()));
            choice.put("finish_reason", finishReason(c));
        }
        body.set("usage", usage);
        out.body(body.toString());
    }

    /**
     * One choice as it is generated: its text split into reasoning, content and tool calls, streamed as chunks
     * when the request streams, and its outcome.
     */
    private final class ChoiceStream implements ContinuousBatch.Listener {
        private final int index;
        private final boolean stream;
        private final boolean chat;
        private final Chunks chunks;
        private final EventStream out;
        private final long arrivalNanos;
        private final AssistantOutput output;
        private final ArrayNode logprobs; // every token's (a body), or those not yet streamed; null: not asked for
        private long last;
        Choice choice;

        ChoiceStream(CompletionRequest request, RenderedPrompt prompt, int index, Chunks chunks, EventStream out,
                     long arrivalNanos) {
            this.index = index;
            this.stream = request.stream();
            this.chat = request.messages() != null;
            this.chunks = chunks;
            this.out = out;
            this.arrivalNanos = arrivalNanos;
            this.logprobs = request.options().topLogprobs() >= 0 ? json.createArrayNode() : null;
            this.output = new AssistantOutput(prompt, request.tools() != null, new AssistantOutput.Sink() {
                @Override
                public void reasoning(String text) {
                    if (stream) {
                        out.event(chunks.delta(index, "reasoning_content", text, streamedLogprobs()).toString());
                    }
                }

                @Override
                public void content(String text) {
                    if (stream) {
                        out.event(chunks.delta(index, chat ? "content" : "text", text, streamedLogprobs()).toString());
                    }
                }
            });
        }

        /** The tokens whose logprobs have not been streamed yet, taken; null when none or not asked for. */
        private ArrayNode streamedLogprobs() {
            if (logprobs == null || logprobs.isEmpty()) {
                return null;
            }
            ArrayNode taken = logprobs.deepCopy();
            logprobs.removeAll();
            return taken;
        }

        @Override
        public void onLogprobs(TokenLogprobs t) {
            ObjectNode entry = entry(t.sampled());
            ArrayNode top = entry.putArray("top_logprobs");
            for (TokenLogprobs.Entry alternative : t.top()) {
                top.add(entry(alternative));
            }
            logprobs.add(entry);
        }

        @Override
        public void onText(String text) {
            long now = System.nanoTime();
            if (last == 0) {
                metrics.firstToken(now - arrivalNanos);
            } else {
                metrics.nextToken(now - last);
            }
            last = now;
            output.accept(text);
        }

        @Override
        public boolean isCancelled() {
            return out.failed();
        }

        @Override
        public void onFinish(GenerationResult result) {
            output.finish();
            choice = new Choice(output.reasoning(), output.content(), output.toolCalls(), logprobs, result);
            if (stream) {
                ObjectNode last = chunks.chunk();
                ObjectNode c = last.putArray("choices").addObject().put("index", index);
                ObjectNode delta = chat ? c.putObject("delta") : c.put("text", "");
                if (chat && !choice.toolCalls().isEmpty()) {
                    delta.set("tool_calls", toolCalls(choice.toolCalls(), true));
                }
                c.set("logprobs", logprobs(streamedLogprobs()));
                c.put("finish_reason", finishReason(choice));
                out.event(last.toString());
            }
        }
    }

    /** OpenAI's logprobs object of a choice or chunk: {@code {"content": [...], "refusal": null}}, or null. */
    private JsonNode logprobs(ArrayNode content) {
        if (content == null) {
            return NullNode.getInstance();
        }
        ObjectNode logprobs = json.createObjectNode();
        logprobs.set("content", content);
        return logprobs.putNull("refusal");
    }

    /** One token as OpenAI's logprobs list it: text, logprob and UTF-8 bytes. */
    private ObjectNode entry(TokenLogprobs.Entry token) {
        ObjectNode entry = json.createObjectNode().put("token", token.token()).put("logprob", token.logprob());
        ArrayNode bytes = entry.putArray("bytes");
        for (byte b : token.bytes()) {
            bytes.add(b & 0xff);
        }
        return entry;
    }

    private ArrayNode toolCalls(List<ToolCall> calls, boolean streamed) {
        ArrayNode array = json.createArrayNode();
        for (int i = 0; i < calls.size(); i++) {
            ObjectNode call = array.addObject();
            if (streamed) {
                call.put("index", i);
            }
            call.put("id", "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24))
                    .put("type", "function");
            call.putObject("function").put("name", calls.get(i).name()).put("arguments", calls.get(i).arguments());
        }
        return array;
    }

    private static String finishReason(Choice c) {
        if (!c.toolCalls().isEmpty()) {
            return "tool_calls";
        }
        return c.result().finishReason() == FinishReason.LENGTH ? "length" : "stop";
    }

    /** The frame every body and chunk shares. */
    private final class Chunks {
        private final String id;
        private final long created;
        private final boolean chat;

        Chunks(String id, long created, boolean chat) {
            this.id = id;
            this.created = created;
            this.chat = chat;
        }

        ObjectNode header(String object) {
            return json.createObjectNode().put("id", id).put("object", object).put("created", created)
                    .put("model", generator.modelName());
        }

        ObjectNode chunk() {
            return header(chat ? "chat.completion.chunk" : "text_completion");
        }

        ObjectNode delta(int index, String field, String text) {
            return delta(index, field, text, null);
        }

        /** A chunk of one choice's text, with the logprobs of its tokens (null: none). */
        ObjectNode delta(int index, String field, String text, ArrayNode logprobs) {
            ObjectNode chunk = chunk();
            ObjectNode choice = chunk.putArray("choices").addObject().put("index", index);
            if (chat) {
                choice.putObject("delta").put(field, text);
            } else {
                choice.put("text", text);
            }
            choice.set("logprobs", logprobs(logprobs));
            choice.putNull("finish_reason");
            return chunk;
        }
    }
}
