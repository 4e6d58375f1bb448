package dev.qwen2j.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CublasLocatorTest {

    @TempDir
    Path temp;

    @Test
    void searchOrder() throws Exception {
        Path ld = Files.createDirectories(temp.resolve("ld"));
        Path cuda = Files.createDirectories(temp.resolve("cuda/lib64"));
        Path wheel = Files.createDirectories(temp.resolve("home/.local/lib/python3.12/site-packages/nvidia/cublas/lib"));
        Path home = temp.resolve("home");
        Files.createFile(wheel.resolve("libcublas.so.12"));
        Map<String, String> env = Map.of("LD_LIBRARY_PATH", ld + "::/nowhere", "CUDA_HOME", temp.resolve("cuda").toString());
        assertEquals(Optional.of(wheel.resolve("libcublas.so.12")), CublasLocator.locate(env, null, home));
        Files.createFile(cuda.resolve("libcublas.so.13"));
        assertEquals(Optional.of(cuda.resolve("libcublas.so.13")), CublasLocator.locate(env, null, home));
        Files.createFile(ld.resolve("libcublas.so"));
        assertEquals(Optional.of(ld.resolve("libcublas.so")), CublasLocator.locate(env, null, home));
        Path explicit = Files.createFile(temp.resolve("my-cublas.so"));
        assertEquals(Optional.of(explicit), CublasLocator.locate(env, explicit.toString(), home));
        assertThrows(IllegalArgumentException.class, () -> CublasLocator.locate(env, temp.resolve("none").toString(), home));
        assertEquals(Optional.empty(), CublasLocator.locate(Map.of(), null, temp.resolve("empty-home")).filter(p -> p.startsWith(temp)));
    }
}
