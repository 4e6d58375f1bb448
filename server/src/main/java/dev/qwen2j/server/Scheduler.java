package dev.qwen2j.server;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Admission: at most {@code maxBatch} sequences run at once (a request of n choices takes n), at most
 * {@code maxQueue} more requests wait (in arrival order) for room; one beyond that is refused with 429, and every
 * request once {@link #close()} was called with 503. What is admitted joins the generator's running batch at its
 * next step, so the batch never holds more than {@code maxBatch} sequences.
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

    /** Runs {@code job}, which runs {@code sequences} sequences, once they fit, on the calling thread. */
    <T> T run(int sequences, Supplier<T> job) {
        if (closed) {
            throw shuttingDown();
        }
        if (sequences > maxBatch) {
            throw ApiException.invalid("n", "n = " + sequences + " exceeds --max-batch " + maxBatch
                    + ": the choices of one request decode in one batch");
        }
        if (!acquireNow(sequences)) {
            acquireWaiting(sequences);
        }
        running.addAndGet(sequences);
        try {
            return job.get();
        } finally {
            running.addAndGet(-sequences);
            slots.release(sequences);
        }
    }

    /** Takes the slots when free and nobody waits for them (a timed try keeps the semaphore's arrival order). */
    private boolean acquireNow(int sequences) {
        try {
            return slots.tryAcquire(sequences, 0, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw shuttingDown();
        }
    }

    private void acquireWaiting(int sequences) {
        if (waiting.incrementAndGet() > maxQueue) {
            waiting.decrementAndGet();
            throw new ApiException(429, "rate_limit_exceeded", null, "queue_full",
                    "the queue is full (--max-batch " + maxBatch + " running, --max-queue " + maxQueue
                            + " waiting); retry later");
        }
        try {
            slots.acquire(sequences);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw shuttingDown();
        } finally {
            waiting.decrementAndGet();
        }
    }

    /** Requests waiting for a slot. */
    int queueLength() {
        return waiting.get();
    }

    /** Sequences running now. */
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
