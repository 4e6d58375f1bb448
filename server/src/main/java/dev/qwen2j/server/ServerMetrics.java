package dev.qwen2j.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;

/** What /metrics shows, in the Prometheus text format: requests, tokens, queue, batch and latencies. */
final class ServerMetrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter promptTokens;
    private final Counter completionTokens;
    private final Counter prefixCacheHitTokens;
    private final Timer timeToFirstToken;
    private final Timer interTokenLatency;
    private final DistributionSummary decodeBatch;

    ServerMetrics(Scheduler scheduler, Generator generator) {
        promptTokens = Counter.builder("qwen2j.prompt.tokens").description("Prompt tokens processed")
                .register(registry);
        completionTokens = Counter.builder("qwen2j.completion.tokens").description("Tokens generated")
                .register(registry);
        prefixCacheHitTokens = Counter.builder("qwen2j.prefix.cache.hit.tokens")
                .description("Prompt tokens whose KV pages came from the prefix cache instead of a prefill")
                .register(registry);
        Gauge.builder("qwen2j.queue.length", scheduler, Scheduler::queueLength)
                .description("Requests waiting for a generation slot").register(registry);
        Gauge.builder("qwen2j.batch.size", scheduler, Scheduler::batchSize)
                .description("Sequences admitted and running now").register(registry);
        Gauge.builder("qwen2j.kv.pages", generator, g -> g.kvPool().pages())
                .description("KV pages in the continuous batch's pool").register(registry);
        Gauge.builder("qwen2j.kv.pages.held", generator, g -> g.kvPool().held())
                .description("KV pages running sequences hold").register(registry);
        Gauge.builder("qwen2j.kv.pages.cached", generator, g -> g.kvPool().cached())
                .description("KV pages kept for the prefix cache that no sequence holds (reclaimed when needed)")
                .register(registry);
        Gauge.builder("qwen2j.kv.waiting.requests", generator, g -> g.kvPool().waiting())
                .description("Requests given a slot that wait for KV pages before they join the batch")
                .register(registry);
        decodeBatch = DistributionSummary.builder("qwen2j.decode.batch.size")
                .description("Sequences one decode step of the continuous batch computed for").register(registry);
        timeToFirstToken = Timer.builder("qwen2j.time.to.first.token")
                .description("From the request's arrival to its first generated text")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(120)).register(registry);
        interTokenLatency = Timer.builder("qwen2j.inter.token.latency")
                .description("Between consecutive pieces of generated text of one choice")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(100_000))
                .maximumExpectedValue(Duration.ofSeconds(10)).register(registry);
    }

    void request(String endpoint, int status) {
        registry.counter("qwen2j.requests", "endpoint", endpoint, "status", Integer.toString(status)).increment();
    }

    /** @param cached of the {@code prompt} tokens, those the prefix cache held */
    void tokens(int prompt, int completion, int cached) {
        promptTokens.increment(prompt);
        completionTokens.increment(completion);
        prefixCacheHitTokens.increment(cached);
    }

    void firstToken(long nanos) {
        timeToFirstToken.record(Duration.ofNanos(nanos));
    }

    void nextToken(long nanos) {
        interTokenLatency.record(Duration.ofNanos(nanos));
    }

    /** One step of the continuous batch computed for {@code sequences} sequences. */
    void decodeStep(int sequences) {
        decodeBatch.record(sequences);
    }

    String scrape() {
        return registry.scrape();
    }
}
