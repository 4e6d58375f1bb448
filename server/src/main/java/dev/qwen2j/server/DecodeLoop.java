package dev.qwen2j.server;

import dev.qwen2j.model.ContinuousBatch;
import dev.qwen2j.model.ContinuousBatchOptions;
import dev.qwen2j.model.KvPoolPlan;
import dev.qwen2j.model.Model;
import dev.qwen2j.model.ModelClosedException;
import dev.qwen2j.model.PreparedPrompt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.IntConsumer;

/**
 * The one thread that steps the model's continuous batch: between steps it admits the jobs that arrived, in arrival
 * order and as many as fit, so a new request joins the running batch at the next step; a finished sequence has left
 * the batch by then. Jobs talk to their request threads themselves; this thread only enqueues.
 */
final class DecodeLoop implements AutoCloseable {

    /** One request's samples as the loop sees them. */
    interface Job {
        PreparedPrompt prompt();

        /** Listener i hears sample i, on the loop's thread. */
        List<? extends ContinuousBatch.Listener> samples();

        /** True once every sample has heard onFinish. */
        boolean finished();

        /** The samples cannot finish: {@code e} says why. */
        void fail(RuntimeException e);
    }

    private static final Logger LOG = LoggerFactory.getLogger(DecodeLoop.class);
    private static final Job STOP = new Job() {
        public PreparedPrompt prompt() {
            return null;
        }

        public List<? extends ContinuousBatch.Listener> samples() {
            return List.of();
        }

        public boolean finished() {
            return true;
        }

        public void fail(RuntimeException e) {
        }
    };

    private final Model model;
    private final ContinuousBatchOptions options;
    private final int maxSequences;
    private final KvPoolPlan plan;
    private final IntConsumer stepSizes;
    private final LinkedBlockingQueue<Job> arrivals = new LinkedBlockingQueue<>();
    private final Thread thread;
    // The loop thread's own.
    private ContinuousBatch batch;
    private final List<Job> admitted = new ArrayList<>();
    private Job next;
    private volatile boolean closing;
    private volatile Generator.KvPoolState poolState = Generator.KvPoolState.NONE;

    /**
     * Creates the batch now (its KV pool is allocated up front, so a pool too large for this machine fails here) and
     * starts the thread.
     */
    DecodeLoop(Model model, ContinuousBatchOptions options, IntConsumer stepSizes) {
        this.model = model;
        this.options = options;
        this.maxSequences = options.maxSequences();
        this.stepSizes = stepSizes;
        this.batch = model.newContinuousBatch(options);
        this.plan = batch.plan();
        this.thread = Thread.ofPlatform().name("qwen2j-decode-loop").daemon().unstarted(this::run);
        thread.start();
    }

    /** The KV pool as the loop last saw it, between steps. */
    Generator.KvPoolState poolState() {
        return poolState;
    }

    /** The KV pool of the batch. */
    KvPoolPlan plan() {
        return plan;
    }

    /**
     * Queues {@code job}; it joins the batch at the next step with seats for all its samples and KV pages for the
     * most they may take (waiting behind the jobs that came before it until then).
     */
    void submit(Job job) {
        if (job.samples().size() > maxSequences) {
            throw new IllegalArgumentException(job.samples().size() + " samples exceed the batch of " + maxSequences);
        }
        arrivals.add(job);
    }

    private void run() {
        try {
            while (!closing) {
                admitArrivals();
                publishPoolState();
                if (batch == null || batch.size() == 0) {
                    if (next == null) {
                        next = arrivals.take(); // idle until a job (or STOP) arrives
                    }
                    continue;
                }
                step();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            abandon(Scheduler.shuttingDown());
        }
    }

    /** Admits arrived jobs in order while the batch has room for the first of them. */
    private void admitArrivals() {
        while (true) {
            if (next == null) {
                next = arrivals.poll();
            }
            if (next == null) {
                return;
            }
            if (next == STOP) { // close() was called: the loop ends
                next = null;
                return;
            }
            try {
                if (batch == null) {
                    batch = model.newContinuousBatch(options); // after a failure; the model may be closed
                }
                if (!batch.tryAdmit(next.prompt(), next.samples())) {
                    return; // first come, first served: the next ones wait behind it
                }
                admitted.add(next);
            } catch (RuntimeException e) {
                next.fail(e);
            }
            next = null;
        }
    }

    private void publishPoolState() {
        int waiting = arrivals.size() + (next != null && next != STOP ? 1 : 0);
        poolState = batch == null ? new Generator.KvPoolState(plan.pages(), 0, 0, waiting)
                : new Generator.KvPoolState(plan.pages(), batch.kvPagesHeld(), batch.kvPagesCached(), waiting);
    }

    private void step() {
        try {
            stepSizes.accept(batch.step());
        } catch (RuntimeException e) {
            // The model was closed, or worse: no sample in this batch can go on.
            if (!(e instanceof ModelClosedException)) { // not the model closed under the server
                LOG.error("decode step failed; failing the {} request(s) in the batch", admitted.size(), e);
            }
            failAdmitted(e);
            batch.close();
            batch = null;
            return;
        }
        admitted.removeIf(Job::finished);
    }

    private void failAdmitted(RuntimeException e) {
        for (Job job : admitted) {
            if (!job.finished()) {
                job.fail(e);
            }
        }
        admitted.clear();
    }

    /** On the way out: every job still here ends with {@code e}, the batch is freed. */
    private void abandon(RuntimeException e) {
        failAdmitted(e);
        if (next != null && next != STOP) {
            next.fail(e);
        }
        for (Job job; (job = arrivals.poll()) != null; ) {
            job.fail(e);
        }
        if (batch != null) {
            batch.close();
            batch = null;
        }
    }

    /**
     * Stops the thread: samples still running end with "shutting down" (the server calls this once its grace is
     * over), and the batch's KV pages are freed. Waits for the thread.
     */
    @Override
    public void close() {
        closing = true;
        arrivals.add(STOP); // wakes the loop when it is idle
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
