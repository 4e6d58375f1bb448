package dev.qwen2j.model;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.quant.Int8Activations;
import dev.qwen2j.quant.Int8FolderWriter;
import dev.qwen2j.quant.QuantizationProgress;
import dev.qwen2j.quant.Quantization;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What int8 costs in quality, on a random-weight bf16 model: teacher-forced over 1,024 positions (4 random sequences of
 * 256 tokens), the int8 model's top-1 token must agree with the bf16 model's at >= 98% of positions and the mean
 * KL(bf16 ‖ int8) of the next-token distributions must stay <= 0.01 nats (the bounds), per group size and
 * with the tied lm_head quantized or kept bf16. The numbers are printed for the note.
 */
class Int8QualityTest {

    private static final int SEQUENCES = 4;
    private static final int LENGTH = 256;
    private static final int VOCAB = 4096;

    @TempDir
    static Path dir;
    static Model reference;
    static int[][] sequences;

    @BeforeAll
    static void load() throws Exception {
        Path folder = RandomQwen2Checkpoint.builder().hiddenSize(128).intermediateSize(384).layers(2).heads(4).kvHeads(2)
                .vocabSize(VOCAB).dtype(DType.BF16).tiedEmbeddings(true).seed(21).maxPositionEmbeddings(1024)
                .write(dir.resolve("bf16"));
        reference = Model.load(folder, options(null));
        Random random = new Random(4);
        sequences = new int[SEQUENCES][LENGTH];
        for (int[] s : sequences) {
            for (int i = 0; i < LENGTH; i++) {
                s[i] = random.nextInt(VOCAB);
            }
        }
    }

    @AfterAll
    static void close() {
        reference.close();
    }

    private static ModelOptions options(Quantization quantization) {
        return ModelOptions.builder().threads(2).contextLength(LENGTH).quantize(quantization).build();
    }

    @ParameterizedTest(name = "group {0}, lm_head int8 {1}, {2} activations")
    @CsvSource({"32, true, f32", "64, true, f32", "128, true, f32", "0, true, f32", "32, false, f32", "0, false, f32",
            "32, true, int8", "0, true, int8"})
    void int8AgreesWithBf16(int groupSize, boolean lmHead, String activations) throws Exception {
        System.setProperty(Int8Activations.PROPERTY, activations); // read when the linear maps are built
        Model loaded;
        try {
            loaded = Model.load(reference.folder(), options(new Quantization(groupSize, lmHead)));
        } finally {
            System.clearProperty(Int8Activations.PROPERTY);
        }
        try (Model int8 = loaded) {
            assertEquals("bf16", reference.weightsFormat());
            compare(int8, new Quantization(groupSize, lmHead).describe() + ", " + activations + " activations, at load");
        }
    }

    /** A folder written by the quantizer stores bf16 scales, as compressed-tensors does: its cost, measured the same way. */
    @ParameterizedTest(name = "folder, group {0}")
    @CsvSource({"32", "0"})
    void aQuantizedFolderAgreesWithBf16(int groupSize) throws Exception {
        Path folder = dir.resolve("int8-folder-" + groupSize);
        Int8FolderWriter.write(reference.folder(), folder, Quantization.int8(groupSize), 2, QuantizationProgress.NONE);
        try (Model int8 = Model.load(folder, options(null))) {
            compare(int8, "folder " + Quantization.int8(groupSize).describe() + " (bf16 scales)");
        }
    }

    private static void compare(Model int8, String what) {
        assertEquals("int8", int8.weightsFormat());
        long agree = 0;
        double kl = 0;
        int positions = 0;
        for (int[] sequence : sequences) {
            Session a = reference.acquireSession();
            Session b = int8.acquireSession();
            try {
                for (int i = 0; i < LENGTH; i++) {
                    float[] p = JlamaParityTest.logSoftmax(i == 0 ? a.prefill(sequence, 1) : a.decode(sequence[i]));
                    float[] q = JlamaParityTest.logSoftmax(i == 0 ? b.prefill(sequence, 1) : b.decode(sequence[i]));
                    agree += JlamaOracle.argmax(p) == JlamaOracle.argmax(q) ? 1 : 0;
                    kl += klDivergence(p, q);
                    positions++;
                }
            } finally {
                reference.releaseSession(a);
                int8.releaseSession(b);
            }
        }
        double agreement = (double) agree / positions;
        double meanKl = kl / positions;
        System.out.printf(Locale.ROOT, "int8 quality: %s over %d positions: top-1 agreement %.2f%%, mean KL %.2e nats; "
                + "decode bytes %d (bf16 %d)%n", what, positions, 100 * agreement, meanKl, int8.weightBytes(),
                reference.weightBytes());
        assertTrue(positions >= 1000);
        assertTrue(agreement >= 0.98, what + ": top-1 agreement " + agreement);
        assertTrue(meanKl <= 0.01, what + ": mean KL " + meanKl);
        assertTrue(int8.weightBytes() < reference.weightBytes());
    }

    /** KL(p ‖ q) from log-probabilities, in nats. */
    static double klDivergence(float[] logP, float[] logQ) {
        double sum = 0;
        for (int i = 0; i < logP.length; i++) {
            sum += Math.exp(logP[i]) * ((double) logP[i] - logQ[i]);
        }
        return sum;
    }
}
