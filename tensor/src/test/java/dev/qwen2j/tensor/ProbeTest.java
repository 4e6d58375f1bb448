package dev.qwen2j.tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bandwidth and FMA probes compute what they claim (their speed is measured in module jmh). */
class ProbeTest {

    /** Exact: small integers sum exactly in F32 in any order. */
    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void streamSumReadsEveryFloatOnce(int bits) {
        CpuBackend vector = Widths.vector(bits);
        try (Arena arena = Arena.ofShared(); CpuBackend scalar = CpuBackend.scalar(2)) {
            // 101 floats per block of the 1024 blocks: not a multiple of any vector, and more than the four
            // 512-bit vectors (64 floats) one step of the vector sum reads, so that loop runs at every width
            int floats = 1024 * 101;
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

    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void fmaLoopCountsItsWork(int bits) {
        CpuBackend vector = Widths.vector(bits);
        float result = FmaPeak.run(vector, 1000);
        assertTrue(Float.isFinite(result) && result > 0, "result " + result);
        assertEquals(2L * 1000 * vector.kernels().flopsPerFmaIteration(), FmaPeak.flops(vector, 1000));
        assertEquals(10L * 2 * bits / 32, vector.kernels().flopsPerFmaIteration(), "ten FMAs of bits/32 lanes");
        // Ten accumulators from 1 to 10, each lane a ← fma(a, m, 1e-3) per iteration; lanes and accumulators summed.
        // m = 0.5 halves the distance to the fixed point each iteration, so one iteration more or less is far off.
        float perLane = 0;
        for (int k = 1; k <= 10; k++) {
            perLane += fmaChain(k, 0.5f, 7);
        }
        float sum = vector.kernels().fmaLoop(7, 0.5f);
        assertEquals(perLane * (bits / 32), sum, 1e-5 * Math.abs(sum), "fmaLoop(7, 0.5)");
    }

    @org.junit.jupiter.api.Test
    void scalarFmaLoopCountsItsWork() {
        try (CpuBackend scalar = CpuBackend.scalar(1)) {
            assertEquals("cpu-scalar", scalar.name());
            assertEquals(1000L * 16, FmaPeak.flops(scalar, 1000), "one thread, eight FMAs of one lane");
            float expected = 0;
            for (int k = 1; k <= 8; k++) {
                expected += fmaChain(k, 0.5f, 7);
            }
            assertEquals(expected, scalar.kernels().fmaLoop(7, 0.5f), "the same float operations in the same order");
        }
    }

    private static float fmaChain(float start, float multiplier, int iterations) {
        float a = start;
        for (int i = 0; i < iterations; i++) {
            a = Math.fma(a, multiplier, 1e-3f);
        }
        return a;
    }
}
