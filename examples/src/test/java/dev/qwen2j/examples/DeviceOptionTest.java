package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --device} and {@code --gpu-layers} on the command line, on a machine without a GPU. */
class DeviceOptionTest {

    @TempDir
    static Path cache;
    private static String previousCache;

    @BeforeAll
    static void useATemporaryCache() {
        previousCache = System.getProperty("qwen2j.cache");
        System.setProperty("qwen2j.cache", cache.toString());
    }

    @AfterAll
    static void restoreTheCache() {
        if (previousCache == null) {
            System.clearProperty("qwen2j.cache");
        } else {
            System.setProperty("qwen2j.cache", previousCache);
        }
    }

    private static boolean driverPresent() {
        try {
            SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Test
    void cudaWithoutADriverIsOneLineNamingWhatIsMissing() {
        if (driverPresent()) {
            return; // the device tests cover a machine with a driver
        }
        Cli cli = Cli.run("generate", "--model", "demo", "--prompt", "What is 1+2?", "--device", "cuda");
        assertEquals(1, cli.exitCode(), cli.err());
        assertTrue(cli.oneErrorLine() && cli.err().contains("libcuda.so.1"), cli.err());
        assertEquals("", cli.out());
    }

    @Test
    void autoWithoutADeviceRunsOnTheCpu() {
        if (driverPresent()) {
            return;
        }
        Cli cli = Cli.run("generate", "--model", "demo", "--prompt", "What is 358+479?", "--temperature", "0",
                "--device", "auto");
        assertEquals(0, cli.exitCode(), cli.err());
        assertTrue(cli.out().endsWith("837"), cli.out());
    }

    @Test
    void badValuesNameTheirFlag() {
        Cli device = Cli.run("generate", "--model", "demo", "--prompt", "hi", "--device", "gpu");
        assertEquals(1, device.exitCode());
        assertTrue(device.oneErrorLine() && device.err().contains("--device"), device.err());
        Cli layers = Cli.run("generate", "--model", "demo", "--prompt", "hi", "--gpu-layers", "3");
        assertEquals(1, layers.exitCode());
        assertTrue(layers.oneErrorLine() && layers.err().contains("--gpu-layers"), layers.err());
    }
}
