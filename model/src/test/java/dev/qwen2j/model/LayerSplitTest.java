package dev.qwen2j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.quant.QuantizationProgress;
import dev.qwen2j.tensor.CpuBackend;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model split across two backends ({@code --gpu-layers}: a GPU's first layers, the CPU's rest) computes what it
 * computes on one. Two CPU backends of one width stand in for the GPU and the CPU, so the logits must be the same
 * bits: anything the split drops or doubles (the residual stream at the boundary, a layer's KV pages on the wrong
 * backend, the embedding or lm_head on the wrong side) shows up here without a GPU.
 */
class LayerSplitTest {

    private static final int LAYERS = 3;

    @TempDir
    static Path dir;
    static Path folder;
    static final ModelOptions OPTIONS = ModelOptions.builder().threads(1).contextLength(256).vectorBits(256).build();

    @BeforeAll
    static void write() throws Exception {
        folder = RandomQwen2Checkpoint.builder().hiddenSize(128).intermediateSize(256).layers(LAYERS).heads(4)
                .kvHeads(2).seed(33).maxPositionEmbeddings(512).write(dir.resolve("model"));
    }

    private static Model split(int firstLayers) throws Exception {
        return Model.load(folder, OPTIONS, QuantizationProgress.NONE, (config, group) -> new LayerSplit(
                CpuBackend.create(1, 256), firstLayers, CpuBackend.create(1, 256), config.numHiddenLayers()));
    }

    /** Prefill of two blocks and then single-token decode, the logits of every step. */
    private static float[][] logits(Model model) {
        int[] prompt = new int[Qwen2.PREFILL_BLOCK + 9];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = (i * 7919 + 13) % 5000;
        }
        float[][] steps = new float[6][];
        try (Session s = model.qwen2().newSession(256, DType.F32)) {
            steps[0] = s.prefill(prompt, prompt.length).clone();
            for (int i = 1; i < steps.length; i++) {
                steps[i] = s.decode(argmax(steps[i - 1])).clone();
            }
        }
        return steps;
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void everySplitGivesTheLogitBitsOfOneBackend() throws Exception {
        float[][] whole;
        try (Model one = split(LAYERS)) {
            assertEquals("cpu-vector256", one.backendName());
            whole = logits(one);
        }
        for (int firstLayers : new int[] {0, 1, 2}) {
            try (Model model = split(firstLayers)) {
                if (firstLayers > 0) {
                    assertTrue(model.backendName().contains(firstLayers + " layers"), model.backendName());
                }
                float[][] got = logits(model);
                for (int i = 0; i < whole.length; i++) {
                    assertArrayEquals(whole[i], got[i], "first " + firstLayers + " layers apart, step " + i);
                }
            }
        }
    }

    @Test
    void aBatchOnASplitModelGivesEachPromptItsTextAlone() throws Exception {
        GenerationOptions greedy = GenerationOptions.builder().temperature(0).maxTokens(12).build();
        List<String> prompts = List.of("one two three", "a longer prompt, with more words in it than the first");
        try (Model one = split(LAYERS); Model model = split(2)) {
            List<GenerationResult> expected = one.generateAll(prompts, greedy);
            List<GenerationResult> got = model.generateAll(prompts, greedy);
            for (int i = 0; i < prompts.size(); i++) {
                assertEquals(expected.get(i).text(), got.get(i).text(), "prompt " + i);
            }
        }
    }

    @Test
    void aSplitOutsideTheLayersIsRefused() {
        CpuBackend backend = CpuBackend.scalar(1);
        try {
            assertThrows(IllegalArgumentException.class, () -> new LayerSplit(backend, 4, backend, 3));
            assertThrows(IllegalArgumentException.class, () -> new LayerSplit(backend, -1, backend, 3));
            assertThrows(IllegalArgumentException.class, () -> new LayerSplit(null, 1, backend, 3));
        } finally {
            backend.close();
        }
    }
}
