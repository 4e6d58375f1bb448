package dev.qwen2j.tensor;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/**
 * Vector backends at every width the kernels are built for, whatever this machine's own width: the Vector API
 * runs every species everywhere (a width wider than the hardware's emulated, slowly), so a kernel that is right
 * only at the width of the machine that runs the tests fails here. Two threads, so chunks split parts.
 */
final class Widths {

    private static final Map<Integer, CpuBackend> BACKENDS = new ConcurrentHashMap<>();

    private Widths() {
    }

    /** 128, 256, 512: for {@code @MethodSource("dev.qwen2j.tensor.Widths#all")}. */
    static IntStream all() {
        return IntStream.of(VectorBits.SUPPORTED);
    }

    /** The shared backend for {@code bits} (its daemon workers live as long as the test JVM). */
    static CpuBackend vector(int bits) {
        return BACKENDS.computeIfAbsent(bits, b -> CpuBackend.create(2, b));
    }
}
