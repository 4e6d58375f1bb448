package dev.qwen2j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwen2j.core.safetensors.DType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Oracle test: log-probabilities at every position qwen2j produces them (after each prefill and after every decoded
 * token) against a float64 NumPy reimplementation of transformers' Qwen2 with its KV cache
 * ({@code numpy-reference/make_suite.py}, run offline on the checkpoints {@link NumpyReferenceCases} writes; the
 * golden values are committed, this test needs no Python). The cases cover prompts of 1, 127, 128, 129, 300 and 1,100
 * tokens around the 128-token prefill block, decode steps after each, BF16, F16 and F32 weights, tied and untied
 * heads, F32 and BF16 KV caches, linear, dynamic-NTK and YaRN {@code rope_scaling}, and a sliding-window layer.
 *
 * <h2>The bound, from the arithmetic</h2>
 * The weights convert to F32 exactly and the reference is float64 (its own error, ~1e-15, is negligible), so the
 * difference is qwen2j's F32 rounding, unit roundoff {@code u = 2^-24 ≈ 6.0e-8}. Under the probabilistic model of
 * rounding (Higham &amp; Mary, "A new approach to probabilistic rounding error analysis", SISC 2019, Thm 3.1), a
 * length-n dot product or sum computed in F32 has relative error at most {@code λ·√n·u} in the sum of the absolute
 * values of its terms, except with probability {@code 2n·exp(-λ²/2)}; with {@code λ = 7} that is below 1e-9 per
 * operation, so it holds for all of the ~10^7 operations of this suite at once with high probability.
 * <ul>
 *   <li>A log-probability is {@code z_t − logsumexp(z)}: moving every logit by at most {@code ε} moves it by at most
 *   {@code 2ε}.</li>
 *   <li>Logits: {@code z = W·ĥ} with {@code ĥ} the final RMSNorm output. The random weights are N(0, 0.02) and the
 *   norm weights ≈ 1, so {@code ‖W_t‖ ≈ 0.02·√64 = 0.16} and {@code ‖ĥ‖ ≈ √64 = 8}: the lm_head's own rounding
 *   contributes {@code λ√64·u·Σ|W_tk ĥ_k| ≤ 7·8·u·1.3 ≈ 4.4e-6}, and an error {@code δĥ} in its input contributes
 *   {@code ‖W_t‖·‖δĥ‖}.</li>
 *   <li>RMSNorm is scale-invariant, so {@code ‖δĥ‖ ≈ ‖ĥ‖·ρ} where ρ is the relative error of the residual stream
 *   it normalizes (plus its own mean-of-squares, {@code λ√64·u}). Each of the two layers adds to the residual stream
 *   sublayer outputs computed by chains of at most four reductions (projection of length 64, attention scores of
 *   16 and softmax-weighted sums over at most 1,104 positions, o_proj of 64; gate/up of 64 and down of 128), each
 *   at most {@code λ√n·u} relative: per layer at most {@code λ·u·(8 + 4 + √1104 + 8 + 8 + 11.3) ≈ 7·72·u}, and
 *   two layers with the final norm about {@code 7·160·u ≈ 6.7e-5} relative, propagated to the logits as
 *   {@code 0.16·8·6.7e-5 ≈ 8.6e-5} at the worst (errors of opposite sign do not cancel in this count).</li>
 *   <li>So {@code |Δ log p| ≤ 2·(4.4e-6 + 8.6e-5) ≈ 1.8e-4} for F32 caches: {@link #F32_CACHE_BOUND}.</li>
 *   <li>A BF16 cache rounds each stored key and value to 8 significant bits; the reference rounds the same way from
 *   its float64 values, so an element differs only where qwen2j's F32 value and the reference's straddle a BF16
 *   rounding boundary (a "flip", one BF16 ulp, {@code 2^-8} relative). Here |k|, |v| ≤ 0.65 and |scores| ≤ 0.16
 *   (so every softmax weight is ≤ e^0.32/T among T positions): a flip moves the attention output by
 *   ≤ {@code 2.5e-3·1.38/T}, the residual stream (norm ≈ 0.16, through o_proj of norm ≤ 0.32) by ≤ {@code 2.2e-2/T}
 *   relative, and log p by ≤ {@code 2·1.7·2.2e-2/T ≈ 7.5e-2/T}. A flip needs the two values within their relative
 *   difference ρ of a boundary, a fraction {@code 2ρ/2^-8} of the 128 elements stored per position; with the
 *   typical (not worst-case) ρ ≈ 1e-6 that is ≈ 0.03 flips per position, ≲ 0.5 in the first 16 positions and
 *   ≈ 10 over 304, whose {@code Σ 7.5e-2/T} is ≲ 1e-3: {@link #BF16_CACHE_BOUND}. (This part leans on the typical
 *   error; with the worst-case ρ above flips would be 30× more frequent.)</li>
 * </ul>
 * Measured: ≤ 2.7e-7 with F32 caches and ≤ 7e-7 with BF16 caches, far inside both. The planted defects this suite
 * exists for move log-probabilities well beyond the F32 bound: keys rotated one position late by 8e-4 to 2.6e-3
 * (each F32-cache case catches it), a dynamic-NTK prompt whose blocks take the table of the tokens so far instead of
 * the whole prompt by 2.5e-4, a dynamic-NTK base never recomputed by 2.4e-4 a few positions past
 * max_position_embeddings and more after, a prefill that feeds its first 128-token block twice by 1.8e-2 to 0.34.
 */
class NumpyReferenceSuiteTest {

    static final double F32_CACHE_BOUND = 1.8e-4;
    static final double BF16_CACHE_BOUND = F32_CACHE_BOUND + 1e-3;

    private static final Map<String, JsonNode> GOLDEN = readGolden();

    static List<String> cases() {
        return NumpyReferenceCases.all().stream().map(NumpyReferenceCases.Case::name).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void logProbabilitiesAtEveryPositionMatchTheFloat64Reference(String name, @TempDir Path dir) throws IOException {
        NumpyReferenceCases.Case c = NumpyReferenceCases.all().stream().filter(x -> x.name().equals(name))
                .findFirst().orElseThrow();
        JsonNode golden = GOLDEN.get(name);
        assertNotNull(golden, "golden values for " + name + " (regenerate with make_suite.py)");
        int[] ids = c.ids();
        JsonNode goldenIds = golden.get("ids");
        assertEquals(ids.length, goldenIds.size(), name + ": ids");
        for (int i = 0; i < ids.length; i++) {
            assertEquals(goldenIds.get(i).asInt(), ids[i], name + ": id " + i);
        }
        double bound = c.kvCache() == DType.BF16 ? BF16_CACHE_BOUND : F32_CACHE_BOUND;

        Path folder = c.write(dir.resolve("model"));
        ModelOptions options = ModelOptions.builder().threads(2).contextLength(c.length()).kvCacheType(c.kvCache())
                .build();
        double worst = 0;
        try (Model model = Model.load(folder, options)) {
            JsonNode runs = golden.get("runs");
            assertEquals(c.runs().size(), runs.size(), name + ": runs");
            for (int r = 0; r < runs.size(); r++) {
                NumpyReferenceCases.Run run = c.runs().get(r);
                JsonNode positions = runs.get(r).get("positions");
                assertEquals(run.prefill(), runs.get(r).get("prefill").asInt());
                assertEquals(run.end() - run.prefill() + 1, positions.size(), name + ": positions of run " + r);
                Session session = model.acquireSession();
                try {
                    float[] logits = session.prefill(ids, run.prefill());
                    for (int j = 0; ; j++) {
                        int position = run.prefill() - 1 + j;
                        String where = name + ", prefill " + run.prefill() + ", position " + position;
                        worst = Math.max(worst, compare(logits, positions.get(j), bound, where));
                        if (position + 1 >= run.end()) {
                            break;
                        }
                        logits = session.decode(ids[position + 1]);
                    }
                } finally {
                    model.releaseSession(session);
                }
            }
        }
        System.out.printf("%s: largest |Δ log p| %.3g (bound %.3g)%n", name, worst, bound);
        assertTrue(worst <= bound);
    }

    /** Checks the golden tokens at one position; returns the largest difference. */
    private static double compare(float[] logits, JsonNode expected, double bound, String where) {
        double[] logProbs = logSoftmax(logits);
        double worst = 0;
        JsonNode tokens = expected.get("tokens");
        for (int i = 0; i < tokens.size(); i++) {
            int token = tokens.get(i).asInt();
            double want = expected.get("log_probs").get(i).asDouble();
            double diff = Math.abs(logProbs[token] - want);
            if (!(diff <= bound)) {
                throw new AssertionError(where + ", token " + token + ": qwen2j " + logProbs[token] + ", reference "
                        + want + " (|Δ| " + diff + " > " + bound + ")");
            }
            worst = Math.max(worst, diff);
        }
        return worst;
    }

    static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        double logSum = max + Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = logits[i] - logSum;
        }
        return out;
    }

    private static Map<String, JsonNode> readGolden() {
        try (InputStream in = NumpyReferenceSuiteTest.class.getResourceAsStream("numpy-reference/suite.json.gz")) {
            if (in == null) {
                throw new IllegalStateException("numpy-reference/suite.json.gz is missing");
            }
            Map<String, JsonNode> byName = new HashMap<>();
            for (JsonNode c : new ObjectMapper().readTree(new GZIPInputStream(in))) {
                byName.put(c.get("name").asText(), c);
            }
            return byName;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
