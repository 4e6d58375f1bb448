package dev.qwen2j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.cuda.CudaBackend;
import dev.qwen2j.cuda.CudaUnavailableException;
import dev.qwen2j.quant.Quantization;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * On a CUDA device (skipped, with the reason, without one): the CUDA backend decodes what the CPU backend does on a
 * random bf16 checkpoint, whole or split, bf16 or int8. Run on a GPU machine with
 * {@code ./build mvn -pl cuda -am test -Dgroups=cuda -Dsurefire.failIfNoSpecifiedTests=false}.
 *
 * <p>The bound: the device rounds prefill's activations to bf16 for cuBLAS and uses the fast {@code __expf}, so its
 * log-probabilities may differ from the CPU's by up to {@value #LOGPROB_BOUND} (in nats, per token, for the top
 * token); greedy tokens must agree wherever the CPU's top two are further apart than twice that.
 */
@Tag("cuda")
class CudaParityDeviceTest {

    static final double LOGPROB_BOUND = 0.05;

    @TempDir
    static Path dir;
    static Path folder;

    @BeforeAll
    static void needsADevice() throws Exception {
        try {
            CudaBackend.open(0).close();
        } catch (CudaUnavailableException e) {
            Assumptions.abort("no CUDA device: " + e.getMessage());
        }
        folder = RandomQwen2Checkpoint.builder().hiddenSize(256).intermediateSize(768).layers(4).heads(8).kvHeads(2)
                .dtype(DType.BF16).seed(41).maxPositionEmbeddings(4096).write(dir.resolve("model"));
    }

    @ParameterizedTest(name = "gpu layers {0}, int8 {1}, kv {2}")
    @CsvSource({"-1, false, F32", "-1, false, BF16", "2, false, F32", "-1, true, F32", "1, true, BF16", "-1, false, I8"})
    void decodesWhatTheCpuDecodes(int gpuLayers, boolean int8, DType kv) throws Exception {
        ModelOptions.Builder common = ModelOptions.builder().contextLength(1024).kvCacheType(kv)
                .quantize(int8 ? Quantization.INT8 : null);
        try (Model cpu = Model.load(folder, common.device("cpu").gpuLayers(-1).build());
             Model gpu = Model.load(folder, common.device("cuda").gpuLayers(gpuLayers).build())) {
            assertTrue(gpu.backendName().contains("cuda"), gpu.backendName());
            int[] prompt = new int[300]; // three prefill blocks, the last partial: cuBLAS and the paged KV
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = (i * 7919 + 5) % 20000;
            }
            try (Session a = cpu.qwen2().newSession(1024, kv); Session b = gpu.qwen2().newSession(1024, kv)) {
                float[] x = a.prefill(prompt, prompt.length).clone();
                float[] y = b.prefill(prompt, prompt.length).clone();
                for (int step = 0; step < 40; step++) {
                    int top = argmax(x);
                    double[] px = logSoftmax(x);
                    double[] py = logSoftmax(y);
                    assertEquals(px[top], py[top], LOGPROB_BOUND, "step " + step + ": log-probability of token " + top);
                    if (margin(px, top) > 2 * LOGPROB_BOUND) {
                        assertEquals(top, argmax(y), "step " + step + ": greedy token");
                    }
                    x = a.decode(top).clone(); // both follow the CPU's tokens, so one difference does not cascade
                    y = b.decode(top).clone();
                }
            }
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    private static double[] logSoftmax(float[] v) {
        double max = Double.NEGATIVE_INFINITY;
        for (float f : v) {
            max = Math.max(max, f);
        }
        double sum = 0;
        for (float f : v) {
            sum += Math.exp(f - max);
        }
        double log = max + Math.log(sum);
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] - log;
        }
        return out;
    }

    private static double margin(double[] p, int top) {
        double second = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < p.length; i++) {
            if (i != top) {
                second = Math.max(second, p[i]);
            }
        }
        return p[top] - second;
    }
}
