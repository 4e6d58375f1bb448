package dev.qwen2j.server;

import java.time.Duration;

/**
 * How the server listens and how much it takes on.
 *
 * @param host          address to bind; 127.0.0.1 keeps it on this machine
 * @param port          TCP port, 0 for any free one
 * @param apiKey        the bearer token every /v1 request must carry, or null for none
 * @param maxBatch      sequences decoded at once in the one continuous batch (a request of n choices runs n)
 * @param maxQueue      requests waiting for room beyond those; one more is refused with 429
 * @param maxBodyBytes  largest request body (413 beyond it)
 * @param shutdownGrace how long running requests may take to finish after a stop is asked for
 * @param thinkingBudget thinking tokens after which a reasoning model's thought is closed, for requests that set no
 *                      {@code thinking_token_budget}; 0 = no limit
 */
public record ServerOptions(String host, int port, String apiKey, int maxBatch, int maxQueue, long maxBodyBytes,
                            Duration shutdownGrace, int thinkingBudget) {

    public ServerOptions {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("--host must not be empty");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be in [0, 65535], got " + port);
        }
        if (apiKey != null && apiKey.isBlank()) {
            throw new IllegalArgumentException("--api-key must not be blank");
        }
        if (maxBatch < 1 || maxBatch > 4096) {
            throw new IllegalArgumentException("--max-batch must be in [1, 4096], got " + maxBatch);
        }
        if (maxQueue < 0 || maxQueue > 1_000_000) {
            throw new IllegalArgumentException("--max-queue must be in [0, 1000000], got " + maxQueue);
        }
        if (thinkingBudget < 0) {
            throw new IllegalArgumentException("--thinking-budget must be >= 1 (or absent), got " + thinkingBudget);
        }
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("maxBodyBytes must be >= 1, got " + maxBodyBytes);
        }
    }

    /** 127.0.0.1:8080, no key, 8 running, 64 waiting, 4 MiB bodies, 30 s to finish on shutdown. */
    public static ServerOptions defaults() {
        return new ServerOptions("127.0.0.1", 8080, null, 8, 64, 4L << 20, Duration.ofSeconds(30), 0);
    }

    public ServerOptions withHost(String host) {
        return new ServerOptions(host, port, apiKey, maxBatch, maxQueue, maxBodyBytes, shutdownGrace, thinkingBudget);
    }

    public ServerOptions withPort(int port) {
        return new ServerOptions(host, port, apiKey, maxBatch, maxQueue, maxBodyBytes, shutdownGrace, thinkingBudget);
    }

    public ServerOptions withApiKey(String apiKey) {
        return new ServerOptions(host, port, apiKey, maxBatch, maxQueue, maxBodyBytes, shutdownGrace, thinkingBudget);
    }

    public ServerOptions withLimits(int maxBatch, int maxQueue) {
        return new ServerOptions(host, port, apiKey, maxBatch, maxQueue, maxBodyBytes, shutdownGrace, thinkingBudget);
    }

    public ServerOptions withThinkingBudget(int thinkingBudget) {
        return new ServerOptions(host, port, apiKey, maxBatch, maxQueue, maxBodyBytes, shutdownGrace, thinkingBudget);
    }

    public ServerOptions withShutdownGrace(Duration shutdownGrace) {
        return new ServerOptions(host, port, apiKey, maxBatch, maxQueue, maxBodyBytes, shutdownGrace, thinkingBudget);
    }
}
