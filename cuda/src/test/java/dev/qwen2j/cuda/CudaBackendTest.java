package dev.qwen2j.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What of the CUDA backend can be checked without a device: its failure without one, and its host-side arithmetic. */
class CudaBackendTest {

    @Test
    void withoutADriverOpeningIsAClearExceptionNamingIt() {
        try {
            SymbolLookup.libraryLookup(CudaDriver.LIBRARY, Arena.global());
            return; // a machine with a driver: the device tests cover it
        } catch (IllegalArgumentException expected) {
            // no driver, as on the development machines
        }
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> CudaBackend.open(0));
        assertTrue(e.getMessage().contains("libcuda.so.1"), e.getMessage());
    }

    /** Every kernel the backend launches (by its name in the sources) is one the context loads and the PTX defines. */
    @Test
    void everyLaunchedKernelIsInThePtx() throws IOException {
        Set<String> launched = new TreeSet<>();
        Pattern launch = Pattern.compile("\\.launch\\(\\s*\"([a-z0-9_]+)\"|\"(matvec_[a-z0-9]+)\"");
        try (var files = Files.list(Path.of("src/main/java/dev/qwen2j/cuda"))) {
            for (Path file : files.toList()) {
                Matcher m = launch.matcher(Files.readString(file));
                while (m.find()) {
                    String name = m.group(1) != null ? m.group(1) : m.group(2);
                    if (name.endsWith("_")) { // "store_kv_" + the KV type
                        for (String type : new String[] {"f32", "bf16", "i8"}) {
                            launched.add(name + type);
                        }
                    } else {
                        launched.add(name);
                    }
                }
            }
        }
        assertTrue(launched.size() >= 10, launched.toString());
        String ptx = Files.readString(Path.of("src/main/resources/dev/qwen2j/cuda/" + CudaContext.PTX_RESOURCE));
        for (String kernel : launched) {
            assertTrue(Launch.KERNELS.contains(kernel), kernel + " is launched but not in Launch.KERNELS");
            assertTrue(ptx.contains(".entry " + kernel + "("), kernel + " is launched but not in the PTX");
        }
    }

    /** A launch's parameter block: value i in slot i, pointer i at it, as cuLaunchKernel reads them. */
    @Test
    void launchArgumentsPointAtTheirValues() {
        CudaContext.LaunchArgs args = new CudaContext.LaunchArgs().clear().pointer(0x1234_5678_9abcL).i32(-7).f32(0.5f);
        var p0 = args.pointers.getAtIndex(ValueLayout.ADDRESS, 0).reinterpret(8);
        var p1 = args.pointers.getAtIndex(ValueLayout.ADDRESS, 1).reinterpret(8);
        var p2 = args.pointers.getAtIndex(ValueLayout.ADDRESS, 2).reinterpret(8);
        assertEquals(0x1234_5678_9abcL, p0.get(ValueLayout.JAVA_LONG, 0));
        assertEquals(-7, p1.get(ValueLayout.JAVA_INT, 0));
        assertEquals(0.5f, p2.get(ValueLayout.JAVA_FLOAT, 0));
        args.clear().i32(3);
        assertEquals(3, p0.get(ValueLayout.JAVA_INT, 0));
    }

    /** The gemm's column-major arguments, run through a reference column-major GEMM, give row-major x·Wᵀ. */
    @Test
    void gemmArgumentsComputeXTimesWTransposed() {
        Random random = new Random(5);
        int out = 7, in = 5, tokens = 3;
        float[] w = new float[out * in];
        float[] x = new float[tokens * in];
        for (int i = 0; i < w.length; i++) {
            w[i] = random.nextFloat() - 0.5f;
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextFloat() - 0.5f;
        }
        CublasGemm.Shape g = CublasGemm.Shape.of(out, in, tokens);
        float[] y = new float[tokens * out];
        // C[i + j·ldc] = Σ_p op(A)[i][p] · op(B)[p][j], column-major, as cublasGemmEx defines it.
        for (int i = 0; i < g.m(); i++) {
            for (int j = 0; j < g.n(); j++) {
                float sum = 0;
                for (int p = 0; p < g.k(); p++) {
                    float a = g.transA() == CublasApi.CUBLAS_OP_T ? w[p + i * g.lda()] : w[i + p * g.lda()];
                    float b = g.transB() == CublasApi.CUBLAS_OP_T ? x[j + p * g.ldb()] : x[p + j * g.ldb()];
                    sum += a * b;
                }
                y[i + j * g.ldc()] = sum;
            }
        }
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < out; o++) {
                float expected = 0;
                for (int k = 0; k < in; k++) {
                    expected += x[t * in + k] * w[o * in + k];
                }
                assertEquals(expected, y[t * out + o], 1e-6f, "token " + t + ", row " + o);
            }
        }
    }
}
