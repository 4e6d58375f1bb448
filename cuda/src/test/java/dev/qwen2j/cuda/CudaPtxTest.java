package dev.qwen2j.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped PTX: it defines every kernel the backend launches, {@code ptxas -arch=sm_90} accepts it, and it is
 * what nvcc makes of the committed {@code .cu} sources (regenerate with {@code scripts/build-ptx.sh}).
 */
class CudaPtxTest {

    static final Path SOURCES = Path.of("src/main/cuda");

    static String shippedPtx() throws IOException {
        try (InputStream in = CudaPtxTest.class.getResourceAsStream("/dev/qwen2j/cuda/qwen2j.ptx")) {
            assertNotNull(in, "qwen2j.ptx is not on the class path");
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    @Test
    void definesEveryKernelForSm90() throws IOException {
        String ptx = shippedPtx();
        assertTrue(ptx.contains(".target sm_90"), "not built for sm_90");
        for (String kernel : Launch.KERNELS) {
            assertTrue(ptx.contains(".entry " + kernel + "("), "no kernel " + kernel);
        }
    }

    @Test
    void ptxasAcceptsIt(@TempDir Path temp) throws Exception {
        Assumptions.assumeTrue(onPath("ptxas"), "no ptxas on this machine");
        Path ptx = temp.resolve("qwen2j.ptx");
        Files.writeString(ptx, shippedPtx(), StandardCharsets.US_ASCII);
        Result r = run(List.of("ptxas", "-arch=sm_90", "-o", temp.resolve("out.cubin").toString(), ptx.toString()));
        assertEquals(0, r.exit, r.output);
    }

    @Test
    void matchesItsSources(@TempDir Path temp) throws Exception {
        Assumptions.assumeTrue(onPath("nvcc"), "no nvcc on this machine");
        String shipped = shippedPtx();
        Result version = run(List.of("nvcc", "--version"));
        String release = version.output.lines().filter(l -> l.startsWith("Cuda compilation tools")).findFirst().orElse("");
        Assumptions.assumeTrue(shipped.contains(release), "the PTX was made by another nvcc than this one (" + release + ")");
        Path fresh = temp.resolve("qwen2j.ptx");
        Result r = run(List.of("nvcc", "-ptx", "-arch=sm_90", "-O3", "-o", fresh.toString(),
                SOURCES.resolve("qwen2j.cu").toString()));
        assertEquals(0, r.exit, r.output);
        assertEquals(Files.readString(fresh, StandardCharsets.US_ASCII), shipped,
                "qwen2j.ptx is stale: run scripts/build-ptx.sh and commit the result");
    }

    record Result(int exit, String output) {
    }

    static Result run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + command);
        return new Result(p.exitValue(), output);
    }

    static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
