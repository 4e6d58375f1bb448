package dev.qwen2j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The machine's read bandwidth as the kernels see it: every thread streams its contiguous share of a 1 GiB
 * off-heap buffer (far larger than any cache) and sums it with the same loads the kernels use. Decode is
 * bounded by this number, so kernel efficiency is quoted against it.
 */
public final class MemoryBandwidth {

    /** Bytes streamed per pass; ≥ 1 GiB so no cache level holds a meaningful part of it. */
    public static final long BYTES = 1L << 30;
    private static final int BLOCKS = 1024;

    private MemoryBandwidth() {
    }

    /** Read bandwidth in GB/s (10⁹ bytes per second) with all physical cores, best of three passes. */
    public static double measureReadGBps() {
        try (CpuBackend backend = CpuBackend.create(0)) {
            return measureReadGBps(backend);
        }
    }

    /** Read bandwidth in GB/s with {@code backend}'s kernels and threads, best of three passes. */
    public static double measureReadGBps(CpuBackend backend) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(BYTES, 4096);
            buffer.fill((byte) 1); // touch every page so the passes measure reads, not page faults
            Kernels kernels = backend.kernels();
            for (int i = 0; i < 200; i++) { // let the JIT compile the loop before timing it
                kernels.sum(buffer, 0, 1 << 20);
            }
            double best = 0;
            for (int pass = 0; pass < 3; pass++) {
                long start = System.nanoTime();
                streamSum(buffer, backend);
                long elapsed = System.nanoTime() - start;
                best = Math.max(best, BYTES / (double) elapsed);
            }
            return best;
        }
    }

    /** One pass over {@code buffer}: each thread sums a contiguous share; returns the total so it is used. */
    public static float streamSum(MemorySegment buffer, CpuBackend backend) {
        Kernels kernels = backend.kernels();
        long blockBytes = buffer.byteSize() / BLOCKS;
        float[] partial = new float[BLOCKS];
        backend.parallel().forRange(BLOCKS, 1, (from, to) -> {
            for (int b = from; b < to; b++) {
                partial[b] = kernels.sum(buffer, b * blockBytes, (b + 1) * blockBytes);
            }
        });
        float total = 0;
        for (float p : partial) {
            total += p;
        }
        return total;
    }
}
