package dev.qwen2j.examples;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.qwen2j.model.Model;
import dev.qwen2j.server.ModelGenerator;
import dev.qwen2j.server.OpenAiServer;
import dev.qwen2j.server.ServerOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code serve} on the demo model, driven by real clients: the official OpenAI Java SDK and LangChain4j's OpenAI
 * module, streaming and not, n &gt; 1, a prompt beyond the context, and 32 concurrent streaming clients.
 */
@ExtendWith(TemporaryDemoCache.class)
@Timeout(240)
class ServeDemoTest {

    private static final String QUESTION = "What is 358+479?";
    private static final String THINKING = "8+9=17\n5+7+1=13\n3+4+1=8";
    private static Model model;
    private static OpenAiServer server;
    private static OpenAIClient client;

    @BeforeAll
    static void serve() throws Exception {
        model = Model.load(DemoModel.folder());
        server = OpenAiServer.start(new ModelGenerator(model, "demo"),
                ServerOptions.defaults().withPort(0).withLimits(32, 64));
        client = OpenAIOkHttpClient.builder().baseUrl(server.url() + "/v1").apiKey("unused").maxRetries(0)
                .timeout(Duration.ofSeconds(120)).build();
    }

    @AfterAll
    static void stop() {
        server.stop();
        model.close();
    }

    private static ChatCompletionCreateParams.Builder ask(String question) {
        return ChatCompletionCreateParams.builder().model("demo").addUserMessage(question);
    }

    @Test
    void chatAnswersWithReasoningApart() {
        ChatCompletion completion = client.chat().completions().create(ask(QUESTION).build());
        ChatCompletion.Choice choice = completion.choices().getFirst();
        assertEquals("837", choice.message().content().orElseThrow());
        assertEquals(THINKING, choice.message()._additionalProperties().get("reasoning_content").asString().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, choice.finishReason());
        CompletionUsage usage = completion.usage().orElseThrow();
        assertTrue(usage.promptTokens() > 5 && usage.completionTokens() > 10, usage.toString());
        assertEquals(usage.promptTokens() + usage.completionTokens(), usage.totalTokens());
    }

    @Test
    void chatStreamsReasoningThenAnswerThenUsage() {
        StringBuilder content = new StringBuilder();
        StringBuilder reasoning = new StringBuilder();
        List<CompletionUsage> usage = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(ask(QUESTION)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            stream.stream().forEach(chunk -> {
                chunk.usage().ifPresent(usage::add);
                for (ChatCompletionChunk.Choice choice : chunk.choices()) {
                    choice.delta().content().ifPresent(content::append);
                    var r = choice.delta()._additionalProperties().get("reasoning_content");
                    if (r != null) {
                        reasoning.append(r.asString().orElseThrow());
                    }
                }
            });
        }
        assertEquals("837", content.toString());
        assertEquals(THINKING, reasoning.toString().strip()); // streamed as generated, line breaks included
        assertEquals(1, usage.size());
        assertTrue(usage.getFirst().completionTokens() > 10);
    }

    @Test
    void nChoicesAreAllAnswered() {
        ChatCompletion completion = client.chat().completions().create(ask(QUESTION).n(3).temperature(0.0).build());
        assertEquals(3, completion.choices().size());
        for (int i = 0; i < 3; i++) {
            assertEquals(i, completion.choices().get(i).index());
            assertEquals("837", completion.choices().get(i).message().content().orElseThrow());
        }
        ChatCompletion one = client.chat().completions().create(ask(QUESTION).build());
        assertEquals(3 * one.usage().orElseThrow().completionTokens(), completion.usage().orElseThrow().completionTokens());
    }

    /** Choice i of a seeded request is what a request of one choice with seed + i gets: its own seed stream. */
    @Test
    void nSeededChoicesEachFollowTheirOwnSeed() {
        ChatCompletion three = client.chat().completions().create(ask(QUESTION).n(3).temperature(1.5).seed(7)
                .maxCompletionTokens(24).build());
        List<String> contents = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ChatCompletion one = client.chat().completions().create(ask(QUESTION).temperature(1.5).seed(7 + i)
                    .maxCompletionTokens(24).build());
            ChatCompletion.Choice choice = three.choices().get(i);
            String text = choice.message().content().orElse("") + "|"
                    + choice.message()._additionalProperties().get("reasoning_content");
            ChatCompletion.Choice alone = one.choices().getFirst();
            assertEquals(alone.message().content().orElse("") + "|"
                    + alone.message()._additionalProperties().get("reasoning_content"), text, "choice " + i);
            contents.add(text);
        }
        assertTrue(contents.stream().distinct().count() > 1, "the seeds differ: " + contents);
    }

    /**
     * logprobs / top_logprobs in OpenAI's shape: one entry per generated token (the thinking's included) whose texts
     * spell the output, log-probabilities at most 0, alternatives most likely first; streamed, the same entries.
     */
    @Test
    void logprobsListEveryTokenWithItsAlternatives() {
        ChatCompletion completion = client.chat().completions().create(ask(QUESTION).temperature(0.0).logprobs(true)
                .topLogprobs(2).build());
        ChatCompletion.Choice choice = completion.choices().getFirst();
        List<ChatCompletionTokenLogprob> tokens = choice.logprobs().orElseThrow().content().orElseThrow();
        StringBuilder text = new StringBuilder();
        for (ChatCompletionTokenLogprob t : tokens) {
            text.append(t.token());
            assertTrue(t.logprob() <= 0, t.toString());
            assertEquals(2, t.topLogprobs().size(), t.toString());
            assertTrue(t.topLogprobs().get(0).logprob() >= t.topLogprobs().get(1).logprob(), t.toString());
            assertTrue(t.logprob() <= t.topLogprobs().get(0).logprob(), t.toString());
            assertEquals(t.token(), new String(toBytes(t.bytes().orElseThrow()), StandardCharsets.UTF_8));
        }
        assertEquals(completion.usage().orElseThrow().completionTokens() - 1, tokens.size(), "all but the <|im_end|>");
        assertTrue(text.toString().contains(THINKING) && text.toString().endsWith("837"), text.toString());

        List<ChatCompletionTokenLogprob> streamed = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(ask(QUESTION)
                .temperature(0.0).logprobs(true).topLogprobs(2).build())) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(c -> c.logprobs()
                    .flatMap(ChatCompletionChunk.Choice.Logprobs::content).ifPresent(streamed::addAll)));
        }
        assertEquals(tokens.stream().map(ChatCompletionTokenLogprob::token).toList(),
                streamed.stream().map(ChatCompletionTokenLogprob::token).toList());
        assertEquals(tokens.stream().map(ChatCompletionTokenLogprob::logprob).toList(),
                streamed.stream().map(ChatCompletionTokenLogprob::logprob).toList());
    }

    private static byte[] toBytes(List<Long> values) {
        byte[] bytes = new byte[values.size()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (long) values.get(i);
        }
        return bytes;
    }

    /** vLLM's thinking_token_budget closes the thought after that many tokens: what it thought is cut short. */
    @Test
    void aThinkingBudgetCutsTheReasoningShort() {
        ChatCompletion completion = client.chat().completions().create(ask(QUESTION)
                .putAdditionalBodyProperty("thinking_token_budget", JsonValue.from(4)).build());
        String reasoning = String.valueOf(completion.choices().getFirst().message()._additionalProperties()
                .get("reasoning_content").asString().orElseThrow());
        assertTrue(!reasoning.isEmpty() && reasoning.length() < THINKING.length() && THINKING.startsWith(reasoning),
                reasoning);
    }

    @Test
    void completionsTakeARawPrompt() {
        Completion completion = client.completions().create(CompletionCreateParams.builder().model("demo")
                .prompt("<|im_start|>user\nWhat is 12+34?<|im_end|>\n<|im_start|>assistant\n").maxTokens(64).build());
        String text = completion.choices().getFirst().text();
        assertTrue(text.startsWith("<think>") && text.strip().endsWith("46"), text);
    }

    @Test
    void aPromptBeyondTheContextIsA400NamingTheLimit() {
        OpenAIServiceException e = assertThrows(OpenAIServiceException.class,
                () -> client.chat().completions().create(ask(QUESTION).maxCompletionTokens(1_000_000).build()));
        assertEquals(400, e.statusCode());
        assertEquals("context_length_exceeded", e.code().orElseThrow());
        assertTrue(e.getMessage().contains("context length"), e.getMessage());
    }

    @Test
    void langChain4jsOpenAiModelsTalkToIt() throws Exception {
        OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(server.url() + "/v1").apiKey("unused")
                .modelName("demo").returnThinking(true).maxRetries(0).timeout(Duration.ofSeconds(120)).build();
        ChatResponse response = chat.chat(ChatRequest.builder().messages(UserMessage.from(QUESTION)).build());
        assertEquals("837", response.aiMessage().text());
        assertEquals(THINKING, response.aiMessage().thinking());

        OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(server.url() + "/v1")
                .apiKey("unused").modelName("demo").returnThinking(true).timeout(Duration.ofSeconds(120)).build();
        CollectingHandler handler = new CollectingHandler();
        streaming.chat(ChatRequest.builder().messages(UserMessage.from(QUESTION)).build(), handler);
        assertEquals("837", handler.await().aiMessage().text());
        assertEquals("837", handler.answer.toString());
        assertEquals(THINKING, handler.thinking.toString().strip());
    }

    /**
     * 32 streaming clients at once, each asking sums until the time is up (at least one each): every answer right,
     * no error, the heap after a second round no bigger than after the first (beyond noise), and the requests
     * really shared decode steps: the server's metrics saw steps computing many sequences at once.
     */
    @Test
    void thirtyTwoConcurrentStreamingClientsAllGetTheRightSums() throws Exception {
        double steps = metric("qwen2j_decode_batch_size_count");
        double sequences = metric("qwen2j_decode_batch_size_sum");
        int answered = load(32, Duration.ZERO);
        long before = usedHeapAfterGc();
        answered += load(32, Duration.ofSeconds(1));
        long after = usedHeapAfterGc();
        assertTrue(answered >= 64, answered + " answers");
        assertTrue(after - before < 32L << 20, "heap grew from " + before + " to " + after + " bytes");
        double largest = metric("qwen2j_decode_batch_size_max");
        double mean = (metric("qwen2j_decode_batch_size_sum") - sequences)
                / (metric("qwen2j_decode_batch_size_count") - steps);
        System.out.printf("decode steps: largest batch %.0f, mean %.1f sequences%n", largest, mean);
        assertTrue(largest >= 8, "the largest decode step computed for " + largest + " sequences");
        assertTrue(mean > 2, "a decode step of the load computed for " + mean + " sequences on average");
    }

    /** A value of the server's /metrics, by its Prometheus name. */
    private static double metric(String name) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(server.url() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        for (String line : response.body().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1));
            }
        }
        throw new AssertionError(name + " missing from /metrics:\n" + response.body());
    }

    /** Runs {@code clients} concurrent streaming clients for about {@code time}; returns the answers checked. */
    private static int load(int clients, Duration time) throws Exception {
        long deadline = System.nanoTime() + time.toNanos();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Integer>> results = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                Random random = new Random(c);
                results.add(threads.submit(() -> {
                    int done = 0;
                    do {
                        int a = random.nextInt(100); // two-digit sums: short answers keep the test quick
                        int b = random.nextInt(100);
                        StringBuilder content = new StringBuilder();
                        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions()
                                .createStreaming(ask("What is " + a + "+" + b + "?").build())) {
                            for (Iterator<ChatCompletionChunk> it = stream.stream().iterator(); it.hasNext(); ) {
                                for (ChatCompletionChunk.Choice choice : it.next().choices()) {
                                    choice.delta().content().ifPresent(content::append);
                                }
                            }
                        }
                        assertEquals(Integer.toString(a + b), content.toString(), a + "+" + b);
                        done++;
                    } while (System.nanoTime() < deadline);
                    return done;
                }));
            }
            int total = 0;
            for (Future<Integer> result : results) {
                total += result.get(200, TimeUnit.SECONDS);
            }
            return total;
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        Runtime runtime = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return runtime.totalMemory() - runtime.freeMemory();
    }
}
