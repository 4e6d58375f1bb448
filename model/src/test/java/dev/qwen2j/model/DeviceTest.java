package dev.qwen2j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --device} and {@code --gpu-layers} as options: parsing, validation, and what a model without qwen2j-cuda does. */
class DeviceTest {

    @TempDir
    static Path dir;

    @Test
    void devicesParse() {
        assertEquals(Device.CPU, Device.parse("cpu"));
        assertEquals(new Device(Device.Kind.CUDA, 0), Device.parse("cuda"));
        assertEquals(new Device(Device.Kind.CUDA, 3), Device.parse(" CUDA:3 "));
        assertEquals(Device.AUTO, Device.parse("auto"));
        assertEquals("cuda:3", Device.parse("cuda:3").toString());
        for (String bad : new String[] {"gpu", "cuda:", "cuda:-1", "cuda:x", "", "cuda:1:2", "cuda:99999999999", null}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.parse(bad));
            assertTrue(e.getMessage().startsWith("device must be cpu, cuda, cuda:N or auto"), e.getMessage());
        }
    }

    @Test
    void gpuLayersAreValidated() {
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> ModelOptions.builder().device("cuda").gpuLayers(-2).build());
        assertTrue(negative.getMessage().startsWith("gpuLayers"), negative.getMessage());
        IllegalArgumentException onCpu = assertThrows(IllegalArgumentException.class,
                () -> ModelOptions.builder().gpuLayers(3).build());
        assertTrue(onCpu.getMessage().contains("needs a cuda"), onCpu.getMessage());
        assertEquals(-1, ModelOptions.defaults().gpuLayers());
        assertEquals(Device.CPU, ModelOptions.defaults().device());
    }

    @Test
    void withoutTheCudaModuleCudaIsAClearErrorAndAutoIsTheCpu() throws Exception {
        Path folder = RandomQwen2Checkpoint.builder().hiddenSize(64).intermediateSize(128).layers(2).heads(2)
                .kvHeads(1).seed(3).write(dir.resolve("model"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Model.load(folder, ModelOptions.builder().device("cuda").build()));
        assertTrue(e.getMessage().contains("qwen2j-cuda"), e.getMessage());
        GenerationOptions greedy = GenerationOptions.builder().temperature(0).maxTokens(6).build();
        try (Model auto = Model.load(folder, ModelOptions.builder().device("auto").threads(1).build());
             Model cpu = Model.load(folder, ModelOptions.builder().threads(1).build())) {
            assertTrue(auto.backendName().startsWith("cpu"), auto.backendName());
            assertEquals(cpu.generate("hello", greedy, t -> { }).text(), auto.generate("hello", greedy, t -> { }).text());
        }
    }
}
