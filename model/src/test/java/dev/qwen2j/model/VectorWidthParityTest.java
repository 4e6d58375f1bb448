package dev.qwen2j.model;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Oracle test at every vector width, whatever this machine's own: prefill, then six greedy decode steps of the
 * model computed by the 128-, 256- and 512-bit kernels, against the float64 NumPy reference's greedy decoding
 * ({@code numpy-reference/make_greedy_golden.py} on the checkpoint of {@link NumpyReferenceTest}).
 *
 * <p>Tolerance 1e-5 in log-probability, as in {@link NumpyReferenceTest}: F32 rounding through two layers, whatever
 * the order the lanes sum in. The reference's greedy margins are at least 0.12, so greedy tokens must be equal.
 */
class VectorWidthParityTest {

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {128, 256, 512})
    void greedyTokensAndLogProbabilitiesMatchTheReference(int bits, @TempDir Path dir) throws Exception {
        JsonNode cases = NumpyReferenceTest.golden("bf16-tied-2-layers-greedy.json");
        Path folder = NumpyReferenceTest.writeCheckpoint(dir);
        ModelOptions options = ModelOptions.builder().threads(2).contextLength(64).vectorBits(bits).build();
        try (Model model = Model.load(folder, options)) {
            assertEquals("cpu-vector" + bits, model.backendName());
            for (JsonNode c : cases) {
                int[] ids = NumpyReferenceTest.ids(c);
                Session session = model.acquireSession();
                try {
                    float[] logits = session.prefill(ids, ids.length);
                    JsonNode steps = c.get("steps");
                    for (int step = 0; step < steps.size(); step++) {
                        JsonNode expected = steps.get(step);
                        float[] logProbs = JlamaParityTest.logSoftmax(logits);
                        String where = bits + " bits, '" + c.get("prompt").asText() + "', step " + step;
                        for (int i = 0; i < expected.get("token_ids").size(); i++) {
                            int token = expected.get("token_ids").get(i).asInt();
                            assertEquals(expected.get("log_probs").get(i).asDouble(), logProbs[token],
                                    NumpyReferenceTest.TOLERANCE, where + ", token " + token);
                        }
                        int greedy = JlamaOracle.argmax(logProbs);
                        assertEquals(expected.get("greedy").asInt(), greedy, where + ": greedy token");
                        if (step + 1 < steps.size()) {
                            logits = session.decode(greedy);
                        }
                    }
                } finally {
                    model.releaseSession(session);
                }
            }
        }
    }
}
