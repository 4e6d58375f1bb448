package dev.qwen2j.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A persistent pool of worker threads with a parallel-for whose hand-off costs microseconds.
 *
 * <p>One decode step runs ~170 matrix-vector products of tens to hundreds of microseconds each, so the
 * hand-off must be far cheaper than a ForkJoin task. Workers spin ({@link Thread#onSpinWait()}) for a short
 * while after each job, catching the next closely spaced call without a wake-up, then park.
 *
 * <p>A call cuts {@code [0, count)} into a few contiguous chunks per thread. Every thread, the caller
 * included, claims chunks until none are left, so a worker the OS has descheduled (a busy machine, more
 * sessions than cores) delays a call by at most the chunk it is running, never by its whole share: the
 * caller takes over chunks nobody has started. Nothing is allocated per call.
 *
 * <p>Thread-safe: concurrent callers take turns (the hand-off is serialized by a lock; each call still uses
 * every thread). A call made from inside a running body runs inline on the current thread.
 */
public final class Parallel implements AutoCloseable {

    /** The work of one contiguous chunk {@code [from, to)}. */
    @FunctionalInterface
    public interface Body {
        void run(int from, int to);
    }

    /** How long an idle worker spins before parking: longer than the gaps between the ops of one token. */
    private static final long SPIN_NANOS = 100_000;
    /** How long the caller spins for chunks still running before it parks. */
    private static final long CALLER_SPIN_NANOS = 50_000;
    /** Chunks per thread: enough for others to absorb a stalled worker's share, few enough to stay contiguous. */
    private static final int CHUNKS_PER_THREAD = 4;
    /** Chunk field of {@code claims} while a caller writes the next job's fields: nothing may be claimed. */
    private static final int PREPARING = -1;

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock handOff = new ReentrantLock();
    /** 1 while worker i + 1 is parked (or about to park): the caller must unpark it. */
    private final AtomicIntegerArray parked;

    // The current job, written by the caller before it publishes a new generation in 'claims'.
    private Body body;
    private int count;
    private int chunkSize;
    private int chunks;

    /** Generation of the current job (high 32 bits) and the next unclaimed chunk (low 32 bits). */
    private final AtomicLong claims = new AtomicLong();
    /** Chunks of the current job finished (or failed). */
    private final AtomicInteger done = new AtomicInteger();
    private volatile boolean closed;
    private volatile Thread waitingCaller;
    private volatile Throwable failure;

    /** Starts {@code threads - 1} daemon workers; the caller of {@link #forRange} is the last thread. */
    public Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        this.parked = new AtomicIntegerArray(threads - 1);
        for (int i = 0; i < workers.length; i++) {
            int index = i;
            Thread worker = new Thread(() -> workLoop(index), "qwen2j-worker-" + (index + 1));
            worker.setDaemon(true);
            workers[i] = worker;
            worker.start();
        }
    }

    /** Threads a call computes with, the caller included. */
    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, count)} cut into contiguous chunks whose starts are multiples of
     * {@code align}, and returns when all chunks are done. An exception thrown by any chunk is rethrown here
     * after every chunk finished.
     */
    public void forRange(int count, int align, Body body) {
        if (count <= 0) {
            return;
        }
        if (align < 1) {
            throw new IllegalArgumentException("align must be >= 1, got " + align);
        }
        if (closed) {
            throw new IllegalStateException("the worker pool is closed");
        }
        int chunkSize = ceilDiv(ceilDiv(count, threads * CHUNKS_PER_THREAD), align) * align;
        if (threads == 1 || chunkSize >= count || handOff.isHeldByCurrentThread() || isWorkerThread()) {
            body.run(0, count);
            return;
        }
        handOff.lock();
        try {
            // Close the previous job's claims before touching the job fields: a thread still holding that
            // job's last claim state must not see the new fields and then win a CAS on the old state.
            int generation = (int) (claims.get() >>> 32) + 1;
            claims.getAndSet(((long) generation << 32) | (PREPARING & 0xFFFF_FFFFL));
            this.body = body;
            this.count = count;
            this.chunkSize = chunkSize;
            this.chunks = ceilDiv(count, chunkSize);
            this.failure = null;
            done.set(0);
            claims.set((long) generation << 32); // publishes the job: chunk 0 is next
            for (int i = 0; i < workers.length; i++) {
                if (parked.get(i) != 0) {
                    LockSupport.unpark(workers[i]);
                }
            }
            runChunks(generation);
            awaitChunks();
            this.body = null;
            Throwable failed = failure;
            if (failed instanceof RuntimeException e) {
                throw e;
            } else if (failed instanceof Error e) {
                throw e;
            } else if (failed != null) {
                throw new IllegalStateException(failed);
            }
        } finally {
            handOff.unlock();
        }
    }

    /**
     * Claims and runs chunks of job {@code generation} until none is left. A claim succeeds only while the
     * job is unfinished (its chunk is unclaimed), so the job fields read before it belong to that job.
     */
    private void runChunks(int generation) {
        while (true) {
            long state = claims.get();
            int chunk = (int) state;
            if ((int) (state >>> 32) != generation) {
                return;
            }
            if (chunk == PREPARING) { // the caller is still writing this job's fields
                Thread.onSpinWait();
                continue;
            }
            Body job = body;
            int total = chunks;
            int size = chunkSize;
            int end = count;
            if (chunk >= total) {
                return;
            }
            if (!claims.compareAndSet(state, state + 1)) {
                continue;
            }
            int from = chunk * size;
            try {
                job.run(from, Math.min(end, from + size));
            } catch (Throwable t) {
                if (failure == null) {
                    failure = t;
                }
            }
            if (done.incrementAndGet() == total) {
                Thread caller = waitingCaller;
                if (caller != null) {
                    LockSupport.unpark(caller);
                }
            }
        }
    }

    private void awaitChunks() {
        int total = chunks;
        long start = System.nanoTime();
        int spins = 0;
        while (done.get() != total) {
            if ((++spins & 63) == 0 && System.nanoTime() - start > CALLER_SPIN_NANOS) {
                waitingCaller = Thread.currentThread();
                while (done.get() != total) {
                    LockSupport.parkNanos(this, 100_000);
                }
                waitingCaller = null;
                return;
            }
            Thread.onSpinWait();
        }
    }

    private void workLoop(int index) {
        int seen = 0; // the generation before the first job
        while (true) {
            int generation = awaitJob(index, seen);
            if (closed) {
                return;
            }
            runChunks(generation);
            seen = generation;
        }
    }

    /** Spins, then parks, until a job newer than {@code seen} is published or the pool closes. */
    private int awaitJob(int index, int seen) {
        long start = System.nanoTime();
        int spins = 0;
        while (true) {
            int current = (int) (claims.get() >>> 32);
            if (current != seen || closed) {
                return current;
            }
            if ((++spins & 63) == 0 && System.nanoTime() - start > SPIN_NANOS) {
                parked.set(index, 1);
                // Re-check after announcing: a caller that published before seeing the flag is caught here.
                while ((int) (claims.get() >>> 32) == seen && !closed) {
                    LockSupport.park(this);
                }
                parked.set(index, 0);
                return (int) (claims.get() >>> 32);
            }
            Thread.onSpinWait();
        }
    }

    private boolean isWorkerThread() {
        Thread current = Thread.currentThread();
        for (Thread worker : workers) {
            if (worker == current) {
                return true;
            }
        }
        return false;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Stops the workers; later calls throw {@link IllegalStateException}. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        handOff.lock();
        try {
            closed = true;
            for (Thread worker : workers) {
                LockSupport.unpark(worker);
            }
        } finally {
            handOff.unlock();
        }
        for (Thread worker : workers) {
            try {
                worker.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
