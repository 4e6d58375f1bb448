package dev.qwen2j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.FunctionDefinition;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionTool;
import dev.qwen2j.model.FinishReason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server's protocol, driven by the official OpenAI Java SDK (and a raw HTTP client only where the SDK cannot
 * send the bad request) against a {@link StubGenerator}: tool calls, reasoning_content, disconnects, every error
 * status, shutdown and metrics.
 */
@Timeout(60)
class OpenAiServerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private final StubGenerator stub = new StubGenerator();
    private OpenAiServer server;

    private OpenAiServer start(ServerOptions options) {
        server = OpenAiServer.start(stub, options.withPort(0));
        return server;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private OpenAIClient client(String key) {
        return OpenAIOkHttpClient.builder().baseUrl(server.url() + "/v1").apiKey(key).maxRetries(0).build();
    }

    private static ChatCompletionCreateParams.Builder ask(String message) {
        return ChatCompletionCreateParams.builder().model("stub").addUserMessage(message);
    }

    private static final ChatCompletionTool ADD = ChatCompletionTool.ofFunction(ChatCompletionFunctionTool.builder()
            .function(FunctionDefinition.builder().name("add").description("Adds two numbers").build()).build());

    @Test
    void toolCallsAreParsedOutOfTheOutput() {
        start(ServerOptions.defaults());
        ChatCompletion completion = client("k").chat().completions().create(ask("tool").tools(List.of(ADD)).build());
        ChatCompletion.Choice choice = completion.choices().getFirst();
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
        ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().getFirst().asFunction();
        assertEquals("add", call.function().name());
        assertEquals(JSON.createObjectNode().put("a", 358).put("b", 479), readTree(call.function().arguments()));
        assertTrue(call.id().startsWith("call_"));
        assertTrue(choice.message().content().isEmpty(), "no content besides the call");
        assertEquals("plan", choice.message()._additionalProperties().get("reasoning_content").asString().orElseThrow());
        assertEquals("add", ((java.util.Map<?, ?>) stub.toolsSeen.getFirst().getFirst().get("function")).get("name"));
    }

    @Test
    void toolCallsStream() {
        start(ServerOptions.defaults());
        StringBuilder name = new StringBuilder();
        StringBuilder arguments = new StringBuilder();
        StringBuilder content = new StringBuilder();
        String finish = null;
        try (StreamResponse<ChatCompletionChunk> stream = client("k").chat().completions()
                .createStreaming(ask("tool").tools(List.of(ADD)).build())) {
            for (Iterator<ChatCompletionChunk> it = stream.stream().iterator(); it.hasNext(); ) {
                for (ChatCompletionChunk.Choice choice : it.next().choices()) {
                    choice.delta().content().ifPresent(content::append);
                    choice.delta().toolCalls().ifPresent(calls -> calls.forEach(c -> c.function().ifPresent(f -> {
                        f.name().ifPresent(name::append);
                        f.arguments().ifPresent(arguments::append);
                    })));
                    if (choice.finishReason().isPresent()) {
                        finish = choice.finishReason().get().asString();
                    }
                }
            }
        }
        assertEquals("add", name.toString());
        assertEquals(JSON.createObjectNode().put("a", 358).put("b", 479), readTree(arguments.toString()));
        assertEquals("tool_calls", finish);
        assertTrue(content.toString().isBlank(), content.toString());
    }

    @Test
    void toolChoiceNoneHidesTheTools() {
        start(ServerOptions.defaults());
        String body = "{\"model\":\"stub\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"add\"}}],\"tool_choice\":\"none\"}";
        assertEquals(200, post("/v1/chat/completions", body, null).statusCode());
        assertTrue(stub.toolsSeen.isEmpty());
    }

    @Test
    void aClientThatDisconnectsCancelsItsGeneration() throws Exception {
        start(ServerOptions.defaults());
        int before;
        try (StreamResponse<ChatCompletionChunk> stream = client("k").chat().completions()
                .createStreaming(ask("forever").build())) {
            Iterator<ChatCompletionChunk> it = stream.stream().iterator();
            for (int i = 0; i < 5; i++) {
                it.next();
            }
            before = stub.foreverPieces.get();
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!stub.finished.contains(FinishReason.CANCELLED) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(stub.finished.contains(FinishReason.CANCELLED), "the generation was cancelled");
        // A piece every 20 ms. OkHttp's close first reads on for up to 100 ms (to keep the connection for reuse)
        // before it closes the socket; then the piece written into the closed socket draws the reset and the
        // next write fails: at most 100 / 20 + 2 pieces, plus one of scheduling slack.
        int after = stub.foreverPieces.get() - before;
        assertTrue(after <= 8, after + " pieces generated after the disconnect");
    }

    @Test
    void errorsHaveOpenAisBodyAndStatus() {
        start(ServerOptions.defaults().withApiKey("secret"));
        OpenAIServiceException wrongKey = assertThrows(OpenAIServiceException.class,
                () -> client("wrong").chat().completions().create(ask("hi").build()));
        assertEquals(401, wrongKey.statusCode());
        assertEquals("invalid_api_key", wrongKey.code().orElseThrow());

        OpenAIServiceException unknownModel = assertThrows(OpenAIServiceException.class,
                () -> client("secret").chat().completions().create(ask("hi").model("gpt-4o").build()));
        assertEquals(404, unknownModel.statusCode());
        assertEquals("model", unknownModel.param().orElseThrow());
        assertEquals("model_not_found", unknownModel.code().orElseThrow());

        assertError(post("/v1/chat/completions", "{\"model\": \"stub\", ", "secret"), 400, null, "invalid_json");
        assertError(post("/v1/chat/completions", "{\"model\":\"stub\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"temperature\":\"hot\"}", "secret"), 400, "temperature", "invalid_value");
        assertError(post("/v1/chat/completions", "{\"model\":\"stub\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"n\":99}", "secret"), 400, "n", "invalid_value");
        assertError(post("/v1/chat/completions", "{\"model\":\"stub\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"n\":9}", "secret"), 400, "n", "invalid_value"); // more choices than --max-batch 8 sequences
        assertError(post("/v1/chat/completions", "{\"model\":\"stub\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"thinking_token_budget\":0}", "secret"), 400, "thinking_token_budget", "invalid_value");
        assertError(post("/v1/chat/completions", "{\"model\":\"stub\",\"messages\":[]}", "secret"), 400, "messages",
                "invalid_value");
        assertError(post("/v1/chat/completions", "{\"model\":\"stub\",\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}",
                "secret"), 400, "messages[0].role", "invalid_value");
        assertError(post("/v1/completions", "{\"model\":\"stub\",\"prompt\":42}", "secret"), 400, "prompt", "invalid_value");
        assertError(post("/v1/completions", "{\"model\":\"stub\",\"prompt\":\"hi\",\"logprobs\":true}", "secret"), 400,
                "logprobs", "unsupported_parameter");
        assertError(post("/v1/chat/completions", "{\"model\":\"stub\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"top_logprobs\":3}", "secret"), 400, "top_logprobs", "invalid_value"); // without logprobs: true
        assertError(post("/v1/chat/completions", "{\"model\":\"stub\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"logprobs\":true,\"top_logprobs\":21}", "secret"), 400, "top_logprobs", "invalid_value");
        assertError(post("/v1/nothing", "{}", "secret"), 404, null, "unknown_url");
        assertError(post("/v1/completions", "{\"model\":\"stub\",\"prompt\":\"" + "x".repeat(5 << 20) + "\"}", "secret"),
                413, null, "request_too_large");
    }

    @Test
    void aFullQueueIsRefusedWith429() throws Exception {
        start(ServerOptions.defaults().withLimits(1, 0));
        OpenAIClient client = client("k");
        try (StreamResponse<ChatCompletionChunk> running = client.chat().completions().createStreaming(ask("forever").build())) {
            running.stream().iterator().next(); // admitted and generating
            OpenAIServiceException full = assertThrows(OpenAIServiceException.class,
                    () -> client.chat().completions().create(ask("hi").build()));
            assertEquals(429, full.statusCode());
            assertEquals("queue_full", full.code().orElseThrow());
        }
    }

    @Test
    void shutdownRefusesNewRequestsAndLetsRunningOnesFinish() throws Exception {
        start(ServerOptions.defaults().withShutdownGrace(Duration.ofSeconds(20)));
        OpenAIClient client = client("k");
        // Own threads: the common pool may have a single worker on a small machine.
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
        Future<ChatCompletion> running = threads.submit(() -> client.chat().completions().create(ask("slow").build()));
        while (!running.isDone() && metric("qwen2j_batch_size") < 1) {
            Thread.sleep(5);
        }
        Future<?> stopping = threads.submit(server::stop);
        while (post("/health", null, null).statusCode() != 503) {
            Thread.sleep(5);
        }
        OpenAiServerTest.assertError(post("/v1/chat/completions",
                "{\"model\":\"stub\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", null), 503, null, "shutting_down");
        assertEquals("done", running.get().choices().getFirst().message().content().orElseThrow());
        stopping.get();
    }

    @Test
    void metricsCountRequestsTokensAndLatencies() throws Exception {
        start(ServerOptions.defaults());
        client("k").chat().completions().create(ask("hi").build());
        HttpResponse<String> metrics = post("/metrics", null, null);
        assertEquals(200, metrics.statusCode());
        String text = metrics.body();
        for (String name : List.of("qwen2j_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}",
                "qwen2j_prompt_tokens_total", "qwen2j_completion_tokens_total", "qwen2j_queue_length",
                "qwen2j_batch_size", "qwen2j_time_to_first_token_seconds_bucket", "qwen2j_inter_token_latency_seconds_bucket")) {
            assertTrue(text.contains(name), name + " missing from\n" + text);
        }
        assertFalse(text.contains("qwen2j_requests_total{endpoint=\"/v1/chat/completions\",status=\"500\"}"));
    }

    @Test
    void modelsListsTheServedModel() {
        start(ServerOptions.defaults());
        assertEquals(List.of("stub"), client("k").models().list().data().stream().map(m -> m.id()).toList());
    }

    private double metric(String name) throws Exception {
        for (String line : post("/metrics", null, null).body().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1));
            }
        }
        return 0;
    }

    private static void assertError(HttpResponse<String> response, int status, String param, String code) {
        assertEquals(status, response.statusCode(), response.body());
        JsonNode error = readTree(response.body()).path("error");
        assertTrue(error.path("message").isTextual(), response.body());
        assertTrue(error.path("type").isTextual(), response.body());
        assertEquals(param, error.path("param").isNull() ? null : error.path("param").asText(), response.body());
        assertEquals(code, error.path("code").asText(), response.body());
    }

    /** A raw request: GET when body is null. */
    private HttpResponse<String> post(String path, String body, String key) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.url() + path)).timeout(Duration.ofSeconds(20));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        request = body == null ? request.GET() : request.header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        try {
            return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(path + ": " + e, e);
        }
    }

    private static JsonNode readTree(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }
}
