package dev.qwen2j.quant;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Quantizes many matrices on {@code threads} threads: each is cut into chunks of about a million weights, so that
 * one large matrix (the lm_head) spreads over every thread too.
 */
public final class QuantizeJobs {

    private static final long CHUNK_WEIGHTS = 1 << 20;
    private static final Logger LOG = LoggerFactory.getLogger(QuantizeJobs.class);

    /** Work on a matrix that splits by rows. */
    public sealed interface Work permits Job, Repack {
        int rows();

        int cols();

        void run(int from, int to);
    }

    /** Quantize {@code source} into {@code target}, scales rounded to {@code scaleType}. */
    public record Job(Tensor source, Int8Matrix target, DType scaleType) implements Work {
        public int rows() {
            return source.rows();
        }

        public int cols() {
            return source.cols();
        }

        public void run(int from, int to) {
            Int8Quantizer.quantizeRows(source, target, from, to, scaleType);
        }
    }

    /** Copy a stored int8 matrix into {@code target}, of its shape in another layout (the tiled one). */
    public record Repack(Int8Matrix source, Int8Matrix target) implements Work {
        public int rows() {
            return source.rows();
        }

        public int cols() {
            return source.cols();
        }

        public void run(int from, int to) {
            target.copyRows(source, from, to);
        }
    }

    private QuantizeJobs() {
    }

    /**
     * Runs every job, reporting progress; the first failure is rethrown after the others stopped.
     *
     * @return the wall-clock milliseconds quantizing took (0 for no jobs)
     */
    public static long run(List<? extends Work> jobs, int threads, QuantizationProgress progress) {
        record Chunk(Work job, int from, int to) {
        }
        List<Chunk> chunks = new ArrayList<>();
        long total = 0;
        for (Work job : jobs) {
            int rows = job.rows();
            // Whole tiles per chunk, so that no two threads write the same cache lines of a tiled target.
            int step = (int) Math.max(1, CHUNK_WEIGHTS / Math.max(1, job.cols()) / Int8Matrix.TILE_ROWS) * Int8Matrix.TILE_ROWS;
            for (int from = 0; from < rows; from += step) {
                chunks.add(new Chunk(job, from, Math.min(rows, from + step)));
            }
            total += (long) rows * job.cols();
        }
        if (chunks.isEmpty()) {
            return 0;
        }
        long all = total;
        long[] done = {0};
        long start = System.nanoTime();
        progress.update(0, all);
        try (ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads),
                Thread.ofPlatform().daemon().name("qwen2j-quantize-", 0).factory())) {
            List<Future<?>> futures = new ArrayList<>();
            for (Chunk c : chunks) {
                futures.add(pool.submit(() -> {
                    c.job().run(c.from(), c.to());
                    synchronized (done) {
                        done[0] += (long) (c.to() - c.from()) * c.job().cols();
                        progress.update(done[0], all);
                    }
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    futures.forEach(other -> other.cancel(true));
                    if (e.getCause() instanceof RuntimeException re) {
                        throw re;
                    }
                    throw new IllegalStateException("quantizing failed", e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    futures.forEach(other -> other.cancel(true));
                    throw new IllegalStateException("interrupted while quantizing", e);
                }
            }
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        LOG.info("{} {} int8 weights in {} ms on {} threads", jobs.getFirst() instanceof Repack ? "repacked" : "quantized",
                all, millis, Math.max(1, threads));
        return millis;
    }
}
