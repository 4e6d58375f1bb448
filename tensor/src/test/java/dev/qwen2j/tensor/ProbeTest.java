package dev.qwen2j.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bandwidth and FMA probes compute what they claim (their speed is measured in module jmh). */
class ProbeTest {

    /** Exact: small integers sum exactly in F32 in any order. */
    @Test
    void streamSumReadsEveryFloatOnce() {
        try (Arena arena = Arena.ofShared(); CpuBackend vector = CpuBackend.create(2); CpuBackend scalar = CpuBackend.scalar(2)) {
            int floats = 1024 * 37; // 37 floats per block of the 1024 blocks: not a multiple of any vector
            MemorySegment buffer = arena.allocate(4L * floats, 64);
            for (int i = 0; i < floats; i++) {
                buffer.setAtIndex(ValueLayout.JAVA_FLOAT, i, i % 7);
            }
            float expected = 0;
            for (int i = 0; i < floats; i++) {
                expected += i % 7;
            }
            assertEquals(expected, MemoryBandwidth.streamSum(buffer, vector));
            assertEquals(expected, MemoryBandwidth.streamSum(buffer, scalar));
        }
    }

    @Test
    void fmaLoopCountsItsWork() {
        try (CpuBackend vector = CpuBackend.create(2)) {
            float result = FmaPeak.run(vector, 1000);
            assertTrue(Float.isFinite(result) && result > 0, "result " + result);
            assertEquals(2L * 1000 * vector.kernels().flopsPerFmaIteration(), FmaPeak.flops(vector, 1000));
        }
    }
}
