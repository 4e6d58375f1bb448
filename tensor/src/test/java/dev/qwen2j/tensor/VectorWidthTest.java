package dev.qwen2j.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which kernels run: the Vector API ones, at the width asked for, by option or by system property. */
class VectorWidthTest {

    @ParameterizedTest(name = "{0} bits")
    @MethodSource("dev.qwen2j.tensor.Widths#all")
    void theVectorKernelsRunAtTheRequestedWidth(int bits) {
        CpuBackend backend = Widths.vector(bits);
        assertEquals("cpu-vector" + bits, backend.name());
        assertEquals(bits, backend.vectorBits());
        Class<?> kernels = backend.kernels().getClass();
        // The preferred width is the ordinary class (what coverage and mutation tools instrument); others are copies.
        assertEquals(bits != SpeciesCopies.preferredBits(), kernels.isHidden(), kernels.getName());
        assertTrue(kernels.getName().startsWith(VectorKernels.class.getName()), kernels.getName());
        assertEquals(10L * 2 * bits / 32, backend.kernels().flopsPerFmaIteration(), "lanes of the compiled species");
    }

    @Test
    void eachWidthIsBuiltOncePerJvm() {
        try (CpuBackend a = CpuBackend.create(1, 128); CpuBackend b = CpuBackend.create(1, 128);
             CpuBackend c = CpuBackend.create(1, 512)) {
            assertSame(a.kernels(), b.kernels());
            assertNotSame(a.kernels().getClass(), c.kernels().getClass());
        }
    }

    @Test
    void theDefaultIsThePreferredWidth() {
        try (CpuBackend backend = CpuBackend.create(1)) {
            assertEquals("cpu-vector" + SpeciesCopies.preferredBits(), backend.name());
            assertSame(VectorKernels.class, backend.kernels().getClass());
        }
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {128, 512})
    void thePropertyForcesAWidth(int bits) {
        String before = System.getProperty(VectorBits.PROPERTY);
        System.setProperty(VectorBits.PROPERTY, Integer.toString(bits));
        try (CpuBackend backend = CpuBackend.create(1)) {
            assertEquals("cpu-vector" + bits, backend.name());
        } finally {
            restore(before);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"64", "1024", "257", "-128", "wide", "256bits"})
    void anImpossiblePropertyIsAClearError(String value) {
        String before = System.getProperty(VectorBits.PROPERTY);
        System.setProperty(VectorBits.PROPERTY, value);
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuBackend.create(1));
            assertEquals("-Dqwen2j.vector.bits=" + value + ": the vector width must be 128, 256 or 512 bits",
                    e.getMessage());
        } finally {
            restore(before);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(ints = {-1, 1, 64, 384, 1024})
    void anImpossibleOptionIsAClearError(int bits) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuBackend.create(1, bits));
        assertTrue(e.getMessage().contains("128, 256 or 512"), e.getMessage());
    }

    private static void restore(String before) {
        if (before == null) {
            System.clearProperty(VectorBits.PROPERTY);
        } else {
            System.setProperty(VectorBits.PROPERTY, before);
        }
    }
}
