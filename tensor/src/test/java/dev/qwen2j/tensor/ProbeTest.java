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

    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void fmaLoopCountsItsWork(int bits) {
        CpuBackend vector = Widths.vector(bits);
        float result = FmaPeak.run(vector, 1000);
        assertTrue(Float.isFinite(result) && result > 0, "result " + result);
        assertEquals(2L * 1000 * vector.kernels().flopsPerFmaIteration(), FmaPeak.flops(vector, 1000));
        assertEquals(10L * 2 * bits / 32, vector.kernels().flopsPerFmaIteration(), "ten FMAs of bits/32 lanes");
    }
}
