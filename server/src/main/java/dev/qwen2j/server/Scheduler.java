package dev.qwen2j.server;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Admission: at most {@code maxBatch} generations run at once, at most {@code maxQueue} more wait (in arrival
 * order) for a slot; one beyond that is refused with 429, and every request once {@link #close()} was called
 * with 503. On main's API each admitted request runs its generation on its own pooled session; when the batch
 * engine lands, {@link #run} becomes "join the engine's next step", and these counters stay as they are.
 */
final class Scheduler {

    private final int maxBatch;
    private final int maxQueue;
    private final Semaphore slots;
    private final AtomicInteger waiting = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    private volatile boolean closed;

    Scheduler(int maxBatch, int maxQueue) {
        this.maxBatch = maxBatch;
        this.maxQueue = maxQueue;
        this.slots = new Semaphore(maxBatch, true);
    }

    /** Runs {@code job} once a slot is free, on the calling thread. */
    <T> T run(Supplier<T> job) {
        if (closed) {
            throw shuttingDown();
        }
        if (waiting.incrementAndGet() + running.get() > maxBatch + maxQueue) {
            waiting.decrementAndGet();
            throw new ApiException(429, "rate_limit_exceeded", null, "queue_full",
                    "the queue is full (--max-batch " + maxBatch + " running, --max-queue " + maxQueue
                            + " waiting); retry later");
        }
        try {
            slots.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw shuttingDown();
        } finally {
            waiting.decrementAndGet();
        }
        running.incrementAndGet();
        try {
            return job.get();
        } finally {
            running.decrementAndGet();
            slots.release();
        }
    }

    /** Requests waiting for a slot. */
    int queueLength() {
        return waiting.get();
    }

    /** Generations running now. */
    int batchSize() {
        return running.get();
    }

    /** Refuses new requests from now on; those admitted keep running. */
    void close() {
        closed = true;
    }

    boolean isClosed() {
        return closed;
    }

    static ApiException shuttingDown() {
        return new ApiException(503, "server_error", null, "shutting_down", "the server is shutting down");
    }
}
