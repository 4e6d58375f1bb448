package dev.qwen2j.tensor;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Without {@code --add-modules jdk.incubator.vector}: one warning, scalar kernels, no Vector API class loaded; a
 * forced width is refused rather than silently run scalar.
 */
class ScalarFallbackTest {

    @Test
    void worksWithoutTheVectorModule() throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process process = new ProcessBuilder(List.of(java, "-Xlog:class+load=info",
                "-cp", System.getProperty("java.class.path"), ScalarFallbackMain.class.getName()))
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("backend=cpu-scalar"), output);
        assertTrue(output.contains("same=true"), output);
        assertTrue(output.contains("forced width refused: 256-bit vector kernels need the Vector API"), output);
        long warnings = output.lines().filter(line -> line.contains("WARN") && line.contains("jdk.incubator.vector")).count();
        assertEquals(1, warnings, output);
        assertFalse(output.lines().anyMatch(line -> line.contains("jdk.incubator.vector.") && line.contains("class,load")),
                "a Vector API class was loaded");
        assertFalse(output.contains("VectorKernels source"), "VectorKernels was loaded");
    }
}
