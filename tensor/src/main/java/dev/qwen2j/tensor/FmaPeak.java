package dev.qwen2j.tensor;

/**
 * The compute ceiling prefill is measured against: every thread runs independent fused multiply-adds on
 * values held in registers (no memory traffic) with the kernels' vector width.
 */
public final class FmaPeak {

    private static final long ITERATIONS = 20_000_000;

    private FmaPeak() {
    }

    /** GFLOP/s (10⁹ floating-point operations per second, an FMA counting 2) with all physical cores. */
    public static double measureGFlops() {
        try (CpuBackend backend = CpuBackend.create(0)) {
            return measureGFlops(backend);
        }
    }

    /** GFLOP/s with {@code backend}'s kernels and threads, best of three runs after a warm-up. */
    public static double measureGFlops(CpuBackend backend) {
        run(backend, ITERATIONS / 20);
        double best = 0;
        for (int pass = 0; pass < 3; pass++) {
            long start = System.nanoTime();
            run(backend, ITERATIONS);
            long elapsed = System.nanoTime() - start;
            best = Math.max(best, flops(backend, ITERATIONS) / (double) elapsed);
        }
        return best;
    }

    /** One run: each thread performs {@code iterations} FMA rounds; returns a value so nothing is dead code. */
    public static float run(CpuBackend backend, long iterations) {
        int threads = backend.threads();
        float[] results = new float[threads];
        backend.parallel().forRange(threads, 1, (from, to) -> {
            for (int t = from; t < to; t++) {
                results[t] = backend.kernels().fmaLoop(iterations, 0.999_999f);
            }
        });
        float total = 0;
        for (float r : results) {
            total += r;
        }
        return total;
    }

    /** Floating-point operations of one {@link #run}. */
    public static long flops(CpuBackend backend, long iterations) {
        return backend.threads() * iterations * backend.kernels().flopsPerFmaIteration();
    }
}
