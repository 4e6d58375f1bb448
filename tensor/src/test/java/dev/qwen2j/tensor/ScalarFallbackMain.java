package dev.qwen2j.tensor;

import dev.qwen2j.core.safetensors.DType;

import java.util.List;
import java.util.Random;

/** Run by {@link ScalarFallbackTest} in a JVM without {@code jdk.incubator.vector}: computes one linear map. */
public final class ScalarFallbackMain {

    private ScalarFallbackMain() {
    }

    public static void main(String[] args) {
        Tensor w = TestTensors.random("w", DType.BF16, 40, 33, new Random(5));
        try (CpuBackend first = CpuBackend.create(2); CpuBackend second = CpuBackend.create(2)) {
            float[] x = TestTensors.randomFloats(33, new Random(6));
            float[] y = new float[40];
            first.linear(first.linear(List.of(w), null), x, y, 1);
            float[] y2 = new float[40];
            second.linear(second.linear(List.of(w), null), x, y2, 1);
            System.out.println("backend=" + first.name() + " y0=" + y[0] + " same=" + java.util.Arrays.equals(y, y2));
        }
        try (CpuBackend forced = CpuBackend.create(1, 256)) {
            System.out.println("forced=" + forced.name());
        } catch (IllegalStateException e) {
            System.out.println("forced width refused: " + e.getMessage());
        }
    }
}
