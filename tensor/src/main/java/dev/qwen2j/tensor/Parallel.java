package dev.qwen2j.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A persistent pool of worker threads with a parallel-for whose hand-off costs microseconds.
 *
 * <p>One decode step runs ~170 matrix-vector products of tens to hundreds of microseconds each, so the
 * hand-off must be far cheaper than a ForkJoin task. Workers spin ({@link Thread#onSpinWait()}) for a short
 * while after each job, catching the next closely spaced call without a wake-up, then park. A call splits
 * {@code [0, count)} into one contiguous chunk per thread; the calling thread computes chunk 0 itself.
 * Nothing is allocated per call.
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
    /** How long the caller spins for stragglers before parking (a descheduled worker on a busy machine). */
    private static final long CALLER_SPIN_NANOS = 50_000;

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock handOff = new ReentrantLock();
    private final AtomicInteger pending = new AtomicInteger();

    // The current job, written by the caller before the volatile write of 'generation'.
    private Body body;
    private int count;
    private int chunk;

    private volatile int generation;
    private volatile boolean closed;
    private volatile Thread waitingCaller;
    private volatile Throwable failure;
    /** 1 while worker i + 1 is parked (or about to park): the caller must unpark it. */
    private final AtomicIntegerArray parked;

    /** Starts {@code threads - 1} daemon workers; the caller of {@link #forRange} is the last thread. */
    public Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        this.parked = new AtomicIntegerArray(threads - 1);
        for (int i = 0; i < workers.length; i++) {
            int index = i + 1;
            Thread worker = new Thread(() -> workLoop(index), "qwen2j-worker-" + index);
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
     * Runs {@code body} over {@code [0, count)} split into one contiguous chunk per thread, each chunk
     * a multiple of {@code align} long (except the last), and returns when all chunks are done. An exception
     * thrown by any chunk is rethrown here after every chunk finished.
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
        int chunk = ceilDiv(ceilDiv(count, threads), align) * align;
        if (threads == 1 || chunk >= count || handOff.isHeldByCurrentThread() || isWorkerThread()) {
            body.run(0, count);
            return;
        }
        handOff.lock();
        try {
            this.body = body;
            this.count = count;
            this.chunk = chunk;
            this.failure = null;
            pending.set(workers.length);
            generation = generation + 1; // publishes the job
            for (int i = 0; i < workers.length; i++) {
                if (parked.get(i) != 0) {
                    LockSupport.unpark(workers[i]);
                }
            }
            Throwable own = null;
            try {
                body.run(0, Math.min(chunk, count));
            } catch (Throwable t) {
                own = t;
            }
            awaitWorkers();
            this.body = null;
            Throwable failed = own != null ? own : failure;
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

    private void awaitWorkers() {
        if (pending.get() == 0) {
            return;
        }
        long start = System.nanoTime();
        int spins = 0;
        while (pending.get() != 0) {
            if ((++spins & 63) == 0 && System.nanoTime() - start > CALLER_SPIN_NANOS) {
                waitingCaller = Thread.currentThread();
                while (pending.get() != 0) {
                    LockSupport.parkNanos(this, 100_000);
                }
                waitingCaller = null;
                return;
            }
            Thread.onSpinWait();
        }
    }

    private void workLoop(int index) {
        int seen = 0; // not 'generation': the first job may be published before this thread starts
        while (true) {
            int current = awaitJob(index, seen);
            if (closed) {
                return;
            }
            seen = current;
            int from = index * chunk;
            int to = Math.min(count, from + chunk);
            try {
                if (from < to) {
                    body.run(from, to);
                }
            } catch (Throwable t) {
                failure = t;
            }
            if (pending.decrementAndGet() == 0) {
                Thread caller = waitingCaller;
                if (caller != null) {
                    LockSupport.unpark(caller);
                }
            }
        }
    }

    /** Spins, then parks, until {@code generation} moves past {@code seen} or the pool closes. */
    private int awaitJob(int index, int seen) {
        long start = System.nanoTime();
        int spins = 0;
        while (true) {
            int current = generation;
            if (current != seen || closed) {
                return current;
            }
            if ((++spins & 63) == 0 && System.nanoTime() - start > SPIN_NANOS) {
                parked.set(index - 1, 1);
                // Re-check after announcing: a caller that published before seeing the flag is caught here.
                while (generation == seen && !closed) {
                    LockSupport.park(this);
                }
                parked.set(index - 1, 0);
                return generation;
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
