package dev.qwen2j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.model.Model;
import dev.qwen2j.model.ModelOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server on a real (small, random-weight) model through the official OpenAI SDK: the prefix cache across
 * requests, a request the KV pool can never hold, and a model closed under the server.
 */
@Timeout(120)
class ModelServerTest {

    /** A long system prompt, as applications send with every request: several KV pages of it. */
    private static final String SYSTEM = "You are a helpful assistant for a bookshop. Answer politely and briefly."
            + " Our opening hours are nine to five, Monday to Saturday, and we stock novels, poetry and maps.".repeat(8);

    @TempDir
    Path dir;
    private Model model;
    private OpenAiServer server;

    @BeforeEach
    void load() throws Exception {
        Path folder = RandomQwen2Checkpoint.builder().hiddenSize(64).intermediateSize(128).layers(2).heads(4)
                .kvHeads(2).seed(9).maxPositionEmbeddings(2048).write(dir.resolve("model"));
        model = Model.load(folder, ModelOptions.builder().threads(2).contextLength(1024).build());
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
        model.close();
    }

    private OpenAIClient serve(ModelGenerator generator) {
        if (server != null) {
            server.stop();
        }
        server = OpenAiServer.start(generator, ServerOptions.defaults().withPort(0).withLimits(2, 8));
        return OpenAIOkHttpClient.builder().baseUrl(server.url() + "/v1").apiKey("unused").maxRetries(0)
                .timeout(Duration.ofSeconds(60)).build();
    }

    private static ChatCompletionCreateParams chat(String question, int maxTokens) {
        return ChatCompletionCreateParams.builder().model("random").addSystemMessage(SYSTEM).addUserMessage(question)
                .temperature(0.0).maxCompletionTokens(maxTokens).build();
    }

    private static long cachedTokens(ChatCompletion completion) {
        return completion.usage().orElseThrow().promptTokensDetails().orElseThrow().cachedTokens().orElseThrow();
    }

    private double metric(String name) throws Exception {
        HttpResponse<String> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(server.url() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        for (String line : scrape.body().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1));
            }
        }
        throw new AssertionError(name + " missing from\n" + scrape.body());
    }

    @Test
    void aSecondChatWithTheSameSystemPromptPrefillsOnlyItsOwnPartAndAnswersAsACold() throws Exception {
        OpenAIClient cold = serve(new ModelGenerator(model, "random", 0, false));
        ChatCompletion coldAnswer = cold.chat().completions().create(chat("Do you sell atlases?", 12));
        assertEquals(0, cachedTokens(coldAnswer));

        OpenAIClient client = serve(new ModelGenerator(model, "random"));
        ChatCompletion first = client.chat().completions().create(chat("When do you open?", 12));
        assertEquals(0, cachedTokens(first));
        assertEquals(0.0, metric("qwen2j_prefix_cache_hit_tokens_total"));
        ChatCompletion second = client.chat().completions().create(chat("Do you sell atlases?", 12));
        long cached = cachedTokens(second);
        long promptTokens = second.usage().orElseThrow().promptTokens();
        int systemTokens = model.tokenizer().encode(SYSTEM).length;
        assertTrue(cached >= systemTokens - 32 && cached % 32 == 0 && cached <= promptTokens - 2,
                cached + " of " + promptTokens + " prompt tokens came from the cache; the system prompt has "
                        + systemTokens);
        assertEquals(cached, metric("qwen2j_prefix_cache_hit_tokens_total"), "the counter counts them");
        assertEquals(64.0, metric("qwen2j_kv_pages"), "2 sequences of 1024 positions, 32 a page");
        long deadline = System.nanoTime() + 5_000_000_000L; // the loop publishes between its steps
        while (metric("qwen2j_kv_pages_held") > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0.0, metric("qwen2j_kv_pages_held"));
        assertTrue(metric("qwen2j_kv_pages_cached") >= systemTokens / 32, "the prompts' pages wait in the cache");
        assertEquals(0.0, metric("qwen2j_kv_waiting_requests"));
        assertEquals(coldAnswer.choices().getFirst().message().content(),
                second.choices().getFirst().message().content(), "the same answer as without the cache");
        assertEquals(coldAnswer.usage().orElseThrow().completionTokens(), second.usage().orElseThrow().completionTokens());
    }

    @Test
    void aRequestTheKvPoolCanNeverHoldIsRefusedNamingThePool() throws Exception {
        long pageBytes = model.kvPoolPlan(dev.qwen2j.model.ContinuousBatchOptions.of(2)).pageBytes();
        OpenAIClient client = serve(new ModelGenerator(model, "random", 8 * pageBytes, true));
        OpenAIServiceException e = assertThrows(OpenAIServiceException.class,
                () -> client.chat().completions().create(chat("Tell me everything.", 600)));
        assertEquals(400, e.statusCode());
        assertEquals("kv_cache_exceeded", e.code().orElseThrow());
        assertTrue(e.getMessage().contains("whole KV pool of 8 pages"), e.getMessage());
        // One that fits still runs.
        assertTrue(client.chat().completions().create(ChatCompletionCreateParams.builder().model("random")
                .addUserMessage("hi").maxCompletionTokens(4).build()).choices().size() == 1);
    }

    @Test
    void aModelClosedUnderTheServerAnswers503() throws Exception {
        OpenAIClient client = serve(new ModelGenerator(model, "random"));
        // Closed mid-generation: the running request ends with 503.
        CompletableFuture<ChatCompletion> running = CompletableFuture.supplyAsync(
                () -> client.chat().completions().create(ChatCompletionCreateParams.builder().model("random")
                        .addUserMessage("go on").maxCompletionTokens(900).build()));
        while (metric("qwen2j_batch_size") < 1) {
            Thread.sleep(5);
        }
        model.close();
        Exception during = assertThrows(Exception.class, running::join);
        OpenAIServiceException e = (OpenAIServiceException) during.getCause();
        assertEquals(503, e.statusCode());
        assertEquals("model_closed", e.code().orElseThrow());
        // And every request after.
        OpenAIServiceException after = assertThrows(OpenAIServiceException.class,
                () -> client.chat().completions().create(chat("hello?", 4)));
        assertEquals(503, after.statusCode());
        assertEquals("model_closed", after.code().orElseThrow());
        HttpResponse<String> raw = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(server.url() + "/v1/completions"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"random\",\"prompt\":\"hi\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(503, raw.statusCode());
        assertTrue(raw.body().contains("\"type\":\"service_unavailable\""), raw.body());
    }
}
