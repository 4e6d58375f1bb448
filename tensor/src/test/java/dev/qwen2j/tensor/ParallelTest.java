package dev.qwen2j.tensor;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class ParallelTest {

    @Test
    void everyIndexRunsExactlyOnce() {
        try (Parallel parallel = new Parallel(3)) {
            for (int count : new int[]{1, 2, 3, 5, 16, 17, 100, 1001}) {
                for (int align : new int[]{1, 4, 16}) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(count);
                    parallel.forRange(count, align, (from, to) -> {
                        if (from % align != 0) {
                            throw new AssertionError("chunk start " + from + " not aligned to " + align);
                        }
                        for (int i = from; i < to; i++) {
                            hits.incrementAndGet(i);
                        }
                    });
                    for (int i = 0; i < count; i++) {
                        assertEquals(1, hits.get(i), "count " + count + " align " + align + " index " + i);
                    }
                }
            }
        }
    }

    @Test
    void survivesParkingBetweenCalls() throws InterruptedException {
        try (Parallel parallel = new Parallel(2)) {
            for (int round = 0; round < 5; round++) {
                AtomicIntegerArray hits = new AtomicIntegerArray(64);
                parallel.forRange(64, 1, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        hits.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < 64; i++) {
                    assertEquals(1, hits.get(i));
                }
                Thread.sleep(5); // longer than the spin: the worker parks and must be woken
            }
        }
    }

    @Test
    void failuresReachTheCaller() {
        try (Parallel parallel = new Parallel(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> parallel.forRange(100, 1, (from, to) -> {
                if (from > 0) {
                    throw new IllegalStateException("worker chunk failed");
                }
            }));
            assertEquals("worker chunk failed", e.getMessage());
            // still usable afterwards
            AtomicIntegerArray hits = new AtomicIntegerArray(10);
            parallel.forRange(10, 1, (from, to) -> hits.incrementAndGet(from));
        }
    }

    @Test
    void nestedCallsRunInline() {
        try (Parallel parallel = new Parallel(2)) {
            AtomicIntegerArray hits = new AtomicIntegerArray(100);
            parallel.forRange(10, 1, (from, to) -> {
                for (int i = from; i < to; i++) {
                    int outer = i;
                    parallel.forRange(10, 1, (f, t) -> {
                        for (int j = f; j < t; j++) {
                            hits.incrementAndGet(outer * 10 + j);
                        }
                    });
                }
            });
            for (int i = 0; i < 100; i++) {
                assertEquals(1, hits.get(i));
            }
        }
    }

    @Test
    void closedPoolRefusesWork() {
        Parallel parallel = new Parallel(2);
        parallel.close();
        assertThrows(IllegalStateException.class, () -> parallel.forRange(10, 1, (from, to) -> { }));
    }

    /**
     * Back-to-back calls of different sizes: a worker that finished the last chunk of one call must never claim
     * a chunk of the next call against the old claim state (it once ran a chunk twice, then hung the caller).
     * Without the fix this failed within a second; the time limit turns a hang into a failure.
     */
    @Test
    void closelySpacedCallsOfDifferentSizesNeverOverlap() {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            try (Parallel parallel = new Parallel(2)) {
                java.util.SplittableRandom random = new java.util.SplittableRandom(7);
                long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
                int calls = 0;
                while (System.nanoTime() < deadline || calls < 10_000) {
                    int count = 1 + random.nextInt(64);
                    int[] hits = new int[count];
                    parallel.forRange(count, 1, (from, to) -> {
                        for (int i = from; i < to; i++) {
                            hits[i]++;
                        }
                    });
                    for (int i = 0; i < count; i++) {
                        assertEquals(1, hits[i], "call " + calls + ", index " + i + " of " + count);
                    }
                    calls++;
                }
            }
        });
    }
}
