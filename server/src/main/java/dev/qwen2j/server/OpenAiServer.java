package dev.qwen2j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import org.eclipse.jetty.server.handler.StatisticsHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * An OpenAI-compatible HTTP server over a {@link Generator}: {@code GET /v1/models}, {@code POST
 * /v1/chat/completions}, {@code POST /v1/completions}, {@code GET /health}, {@code GET /metrics}. Every refusal is
 * OpenAI's error body with a fitting status; no request can take the server down.
 *
 * <pre>{@code
 * try (OpenAiServer server = OpenAiServer.start(new ModelGenerator(model, "qwen"), ServerOptions.defaults())) {
 *     server.awaitStop();
 * }
 * }</pre>
 */
public final class OpenAiServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(OpenAiServer.class);
    private static final String ERROR_WRITTEN = "qwen2j.error";
    /** After the generations have ended (or the shutdown grace is over): time for responses to finish writing. */
    private static final Duration RESPONSE_WRITE_GRACE = Duration.ofSeconds(5);
    private static final Set<String> ENDPOINTS = Set.of("/v1/models", "/v1/chat/completions", "/v1/completions",
            "/health", "/metrics");

    private final Generator generator;
    private final ServerOptions options;
    private final ObjectMapper json = new ObjectMapper();
    private final Scheduler scheduler;
    private final ServerMetrics metrics;
    private final Completions completions;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Javalin app;
    /**
     * Counts the requests in flight, whose responses may still be being written after their generation ended:
     * stop() waits for them, since app.stop() cuts off what it finds. (Jetty's own graceful stop, built on this
     * handler, also lingered 1-2 s over idle keep-alive connections.)
     */
    private final StatisticsHandler requests = new StatisticsHandler();

    private OpenAiServer(Generator generator, ServerOptions options) {
        this.generator = generator;
        this.options = options;
        this.scheduler = new Scheduler(options.maxBatch(), options.maxQueue());
        this.metrics = new ServerMetrics(scheduler, generator);
        this.completions = new Completions(generator, scheduler, metrics, json);
        this.app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.useVirtualThreads = true; // a generation blocks its request thread; virtual threads make that cheap
            config.http.maxRequestSize = options.maxBodyBytes();
            config.startupWatcherEnabled = false;
            config.jetty.modifyServer(server -> server.setHandler(requests)); // Javalin nests its handlers inside
        });
        routes();
    }

    /** Binds and starts serving; returns once the port is open. */
    public static OpenAiServer start(Generator generator, ServerOptions options) {
        OpenAiServer server = new OpenAiServer(generator, options);
        if (isWildcard(options.host()) && options.apiKey() == null) {
            LOG.warn("listening on {} without --api-key: anyone who can reach this machine can use the model",
                    options.host());
        }
        generator.open(options.maxBatch(), server.metrics::decodeStep);
        try {
            server.app.start(options.host(), options.port());
        } catch (RuntimeException e) {
            generator.close();
            throw e;
        }
        return server;
    }

    /** The port bound (the chosen one when {@link ServerOptions#port()} was 0). */
    public int port() {
        return app.port();
    }

    /** http://HOST:PORT */
    public String url() {
        String host = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return "http://" + host + ":" + port();
    }

    /**
     * Stops: new requests get 503 at once, running and queued ones may finish until the shutdown grace is over,
     * then the listener closes and the generator too (what still runs then ends with 503). Safe to call more than
     * once and from any thread.
     */
    public void stop() {
        if (scheduler.isClosed()) {
            awaitStop();
            return;
        }
        scheduler.close();
        if (!waitFor(() -> scheduler.batchSize() + scheduler.queueLength() == 0, options.shutdownGrace())) {
            LOG.warn("shutdown grace of {} over with {} generation(s) still running; closing anyway",
                    options.shutdownGrace(), scheduler.batchSize());
        }
        generator.close();
        waitFor(() -> requests.getRequestsActive() == 0, RESPONSE_WRITE_GRACE);
        app.stop();
        stopped.countDown();
    }

    /**
     * Polls {@code done} until it holds or {@code limit} is over (or this thread is interrupted).
     *
     * @return whether {@code done} held at the last look
     */
    private static boolean waitFor(BooleanSupplier done, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return done.getAsBoolean();
            }
        }
        return true;
    }

    /** Blocks until {@link #stop()} has finished. */
    public void awaitStop() {
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Blocks up to {@code millis} for {@link #stop()}; true when stopped. */
    public boolean awaitStop(long millis) throws InterruptedException {
        return stopped.await(millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        stop();
    }

    private void routes() {
        app.before("/v1/*", this::authorize);
        app.get("/health", ctx -> {
            if (scheduler.isClosed()) {
                ctx.status(503).json(json.createObjectNode().put("status", "shutting_down"));
            } else {
                ctx.json(json.createObjectNode().put("status", "ok"));
            }
        });
        app.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape()));
        app.get("/v1/models", ctx -> {
            ObjectNode list = json.createObjectNode().put("object", "list");
            list.putArray("data").add(modelEntry());
            ctx.contentType("application/json").result(list.toString());
        });
        app.get("/v1/models/{id}", ctx -> {
            if (!ctx.pathParam("id").equals(generator.modelName())) {
                throw new ApiException(404, "invalid_request_error", "model", "model_not_found",
                        "the model '" + ctx.pathParam("id") + "' does not exist");
            }
            ctx.contentType("application/json").result(modelEntry().toString());
        });
        app.post("/v1/chat/completions", ctx -> complete(ctx, true));
        app.post("/v1/completions", ctx -> complete(ctx, false));
        app.exception(ApiException.class, (e, ctx) -> error(ctx, e));
        app.exception(HttpResponseException.class, (e, ctx) -> error(ctx, switch (e.getStatus()) {
            case 404, 405 -> unknownPath(ctx);
            case 413 -> new ApiException(413, "invalid_request_error", null, "request_too_large",
                    "the request body exceeds the limit of " + options.maxBodyBytes() + " bytes");
            default -> new ApiException(e.getStatus(), e.getStatus() < 500 ? "invalid_request_error" : "server_error",
                    null, null, e.getMessage());
        }));
        app.exception(Exception.class, (e, ctx) -> {
            LOG.error("request {} {} failed", ctx.method(), ctx.path(), e);
            error(ctx, new ApiException(500, "server_error", null, null, "internal error: " + e));
        });
        app.error(404, ctx -> {
            if (ctx.attribute(ERROR_WRITTEN) == null) {
                error(ctx, unknownPath(ctx));
            }
        });
        app.after(ctx -> metrics.request(ENDPOINTS.contains(ctx.path()) ? ctx.path() : "other", ctx.statusCode()));
    }

    private static ApiException unknownPath(Context ctx) {
        return new ApiException(404, "invalid_request_error", null, "unknown_url",
                "unknown path: " + ctx.method() + " " + ctx.path());
    }

    private ObjectNode modelEntry() {
        return json.createObjectNode().put("id", generator.modelName()).put("object", "model").put("created", 0)
                .put("owned_by", "qwen2j");
    }

    private void authorize(Context ctx) {
        if (options.apiKey() == null) {
            return;
        }
        String header = ctx.header("Authorization");
        if (header == null || !header.equals("Bearer " + options.apiKey())) {
            throw new ApiException(401, "invalid_request_error", null, "invalid_api_key",
                    header == null ? "missing API key: send 'Authorization: Bearer KEY'" : "incorrect API key");
        }
    }

    private void complete(Context ctx, boolean chat) {
        long arrival = System.nanoTime();
        if (scheduler.isClosed()) {
            throw Scheduler.shuttingDown();
        }
        JsonNode body;
        try {
            body = json.readTree(ctx.body());
        } catch (JsonProcessingException e) {
            throw new ApiException(400, "invalid_request_error", null, "invalid_json",
                    "malformed JSON: " + e.getOriginalMessage());
        }
        CompletionRequest request = CompletionRequest.parse(body, chat, options.thinkingBudget());
        HttpEventStream out = new HttpEventStream(ctx);
        try {
            completions.answer(request, chat, out, arrival);
        } catch (RuntimeException e) {
            if (!out.committed()) {
                throw e;
            }
            ApiException api = e instanceof ApiException a ? a
                    : new ApiException(500, "server_error", null, null, "internal error: " + e);
            if (!(e instanceof ApiException)) {
                LOG.error("stream of {} failed", ctx.path(), e);
            }
            out.event(errorBody(api).toString());
        } finally {
            out.close();
        }
    }

    private void error(Context ctx, ApiException e) {
        ctx.attribute(ERROR_WRITTEN, true);
        ctx.status(e.status()).contentType("application/json").result(errorBody(e).toString());
    }

    private ObjectNode errorBody(ApiException e) {
        ObjectNode body = json.createObjectNode();
        body.putObject("error").put("message", e.getMessage()).put("type", e.type()).put("param", e.param())
                .put("code", e.code());
        return body;
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }
}
