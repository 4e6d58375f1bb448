package dev.qwen2j.model;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.core.safetensors.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a BF16 or int8 KV cache costs against the exact F32 one: teacher-forced over a 400-token text (13 pages,
 * past the decode split), the KL divergence of the next-token distributions and the agreement of their argmax.
 *
 * <p>Bounds: BF16 keeps 8 significant bits (relative error ≤ 2⁻⁹ per element), int8 about 7 (≤ max|x|/254 per
 * element); a score q·k over head_dim 16 then errs by a few times 2⁻⁹·|q||k| resp. 2⁻⁸·|q||k|, and the
 * distribution's KL by the square of that, well under 10⁻³ and 10⁻², the bounds asserted. A wrong scale or
 * a misplaced slot moves whole scores and breaks them by orders of magnitude.
 */
class KvCachePrecisionTest {

    @Test
    void bf16AndInt8CachesStayCloseToF32(@TempDir Path dir) throws Exception {
        Path folder = RandomQwen2Checkpoint.builder().hiddenSize(64).intermediateSize(128).layers(2).heads(4)
                .kvHeads(2).dtype(DType.BF16).tiedEmbeddings(true).seed(5).maxPositionEmbeddings(1024)
                .write(dir.resolve("model"));
        String text = "Numbers, words and 数字 in a long text for the cache to hold: ".repeat(30);
        float[][] exact = teacherForced(folder, DType.F32, text);
        for (DType cache : new DType[]{DType.BF16, DType.I8}) {
            float[][] approx = teacherForced(folder, cache, text);
            double kl = 0;
            int agree = 0;
            for (int i = 0; i < exact.length; i++) {
                kl += klDivergence(exact[i], approx[i]);
                agree += JlamaOracle.argmax(exact[i]) == JlamaOracle.argmax(approx[i]) ? 1 : 0;
            }
            double meanKl = kl / exact.length;
            double agreement = (double) agree / exact.length;
            System.out.printf("KV cache %s vs F32 over %d positions: mean KL %.3g nats, top-1 agreement %.2f%%%n",
                    cache, exact.length, meanKl, 100 * agreement);
            double bound = cache == DType.BF16 ? 1e-3 : 1e-2;
            assertTrue(meanKl <= bound, cache + ": mean KL " + meanKl + " > " + bound);
            assertTrue(agreement >= 0.95, cache + ": top-1 agreement " + agreement);
        }
    }

    /** Log-probabilities after every token of {@code text} but the first, one decode step at a time. */
    private static float[][] teacherForced(Path folder, DType cache, String text) throws Exception {
        try (Model model = Model.load(folder, ModelOptions.builder().threads(2).contextLength(1024).kvCacheType(cache).build())) {
            int[] ids = model.tokenizer().encode(text);
            Session session = model.acquireSession();
            try {
                float[][] out = new float[ids.length - 1][];
                float[] logits = session.prefill(ids, 1);
                for (int i = 1; i < ids.length; i++) {
                    out[i - 1] = JlamaParityTest.logSoftmax(logits);
                    logits = session.decode(ids[i]);
                }
                return out;
            } finally {
                model.releaseSession(session);
            }
        }
    }

    private static double klDivergence(float[] logP, float[] logQ) {
        double kl = 0;
        for (int i = 0; i < logP.length; i++) {
            double p = Math.exp(logP[i]);
            kl += p * (logP[i] - logQ[i]);
        }
        return Math.max(0, kl);
    }
}
