package dev.qwen2j.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.core.config.RopeScaling;
import dev.qwen2j.core.safetensors.DType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The checkpoints, token ids and runs behind {@link NumpyReferenceSuiteTest}'s golden file. The test writes each
 * checkpoint again from the same settings (random weights depend only on seed, shape and names); {@link #main}
 * writes them for {@code numpy-reference/make_suite.py}, which runs the float64 reference on them:
 * <pre>
 * ./build mvn -q -pl model -am test-compile
 * java --add-modules jdk.incubator.vector -cp "$(cat cp.txt):model/target/test-classes:..." \
 *     dev.qwen2j.model.NumpyReferenceCases /tmp/numpy-cases       # see make_suite.py for the full command
 * python3 make_suite.py /tmp/numpy-cases suite.json
 * </pre>
 */
final class NumpyReferenceCases {

    /** A small vocabulary keeps the lm_head (and so a decode step) cheap; the ids are drawn below it. */
    static final int VOCAB = 2048;
    /** Decode steps after each prefill. */
    static final int DECODE = 4;

    /**
     * One checkpoint and KV cache type, one sequence of {@code length} ids, and the runs over it: each run
     * prefills the first {@code prefill} ids in one {@code Session.prefill} and decodes the rest up to {@code end}
     * one by one; log-probabilities are compared after the prefill and after every decoded token.
     */
    record Case(String name, RandomQwen2Checkpoint.Builder checkpoint, Window window, DType kvCache, int length,
                List<Run> runs) {

        /** Writes the checkpoint (with its sliding window, if any) into {@code folder}. */
        Path write(Path folder) throws IOException {
            checkpoint.write(folder);
            if (window != null) {
                Path config = folder.resolve("config.json");
                ObjectNode json = (ObjectNode) JSON.readTree(config.toFile());
                json.put("use_sliding_window", true);
                json.put("sliding_window", window.size());
                json.put("max_window_layers", window.maxWindowLayers());
                Files.writeString(config, JSON.writeValueAsString(json));
            }
            return folder;
        }

        int[] ids() {
            SplittableRandom random = new SplittableRandom(length * 31L + name.hashCode());
            int[] ids = new int[length];
            for (int i = 0; i < length; i++) {
                ids[i] = random.nextInt(VOCAB);
            }
            return ids;
        }
    }

    /** transformers' sliding window: layers from {@code maxWindowLayers} on see the last {@code size} positions. */
    record Window(int size, int maxWindowLayers) {
    }

    /** Prefill {@code prefill} ids, then decode up to {@code end}. */
    record Run(int prefill, int end) {
    }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private NumpyReferenceCases() {
    }

    static List<Case> all() {
        int shortLength = 304;
        List<Run> shortRuns = List.of(new Run(1, shortLength), new Run(129, 129 + DECODE), new Run(300, shortLength));
        return List.of(
                // Prompts of 1, 127, 128, 129, 300 and 1,100 tokens around the 128-token prefill block, then decode;
                // the first run prefills one token and decodes every other position.
                new Case("bf16-tied-default-f32kv", base(DType.BF16, true, 11), null, DType.F32, 1100 + DECODE,
                        List.of(new Run(1, 1100 + DECODE), new Run(127, 127 + DECODE), new Run(128, 128 + DECODE),
                                new Run(129, 129 + DECODE), new Run(300, 300 + DECODE), new Run(1100, 1100 + DECODE))),
                new Case("bf16-tied-default-bf16kv", base(DType.BF16, true, 11), null, DType.BF16, shortLength, shortRuns),
                new Case("f16-untied-default-f32kv", base(DType.F16, false, 12), null, DType.F32, shortLength, shortRuns),
                new Case("f32-untied-linear-bf16kv", base(DType.F32, false, 13)
                        .ropeScaling(scaling("linear", 4, 512)), null, DType.BF16, shortLength, shortRuns),
                // YaRN: max_position_embeddings / original = factor, so both of transformers' readings agree.
                new Case("bf16-tied-yarn-f32kv", base(DType.BF16, true, 14).maxPositionEmbeddings(128)
                        .ropeScaling(scaling("yarn", 4, 32)), null, DType.F32, shortLength, shortRuns),
                // Dynamic NTK beyond max_position_embeddings = 64: the base grows with every decoded token, and a
                // prefill uses the base of its whole length.
                new Case("bf16-tied-dynamic-f32kv", base(DType.BF16, true, 15).maxPositionEmbeddings(64)
                        .ropeScaling(scaling("dynamic", 2, 64)), null, DType.F32, shortLength,
                        List.of(new Run(1, shortLength), new Run(60, 70), new Run(129, 129 + DECODE),
                                new Run(300, shortLength))),
                // Layer 1 slides (max_window_layers = 1) over a window of 48, layer 0 sees everything.
                new Case("bf16-tied-sliding-f32kv", base(DType.BF16, true, 16), new Window(48, 1), DType.F32,
                        shortLength, shortRuns));
    }

    private static RandomQwen2Checkpoint.Builder base(DType dtype, boolean tied, long seed) {
        return RandomQwen2Checkpoint.builder().hiddenSize(64).intermediateSize(128).layers(2).heads(4).kvHeads(2)
                .vocabSize(VOCAB).dtype(dtype).tiedEmbeddings(tied).seed(seed).ropeTheta(10000)
                .maxPositionEmbeddings(2048);
    }

    private static RopeScaling scaling(String type, double factor, int original) {
        return new RopeScaling(type, factor, original, null, null, null, null, null);
    }

    /** Writes every case's checkpoint under {@code args[0]} and {@code cases.json} listing ids and runs. */
    public static void main(String[] args) throws IOException {
        Path root = Path.of(args[0]);
        ArrayNode cases = JSON.createArrayNode();
        for (Case c : all()) {
            Path folder = c.write(root.resolve(c.name()));
            ObjectNode json = cases.addObject();
            json.put("name", c.name());
            json.put("folder", folder.toAbsolutePath().toString());
            json.put("kv_cache", c.kvCache().name());
            ArrayNode ids = json.putArray("ids");
            for (int id : c.ids()) {
                ids.add(id);
            }
            ArrayNode runs = json.putArray("runs");
            for (Run r : c.runs()) {
                runs.addObject().put("prefill", r.prefill()).put("end", r.end());
            }
        }
        Files.writeString(root.resolve("cases.json"), JSON.writeValueAsString(cases));
    }
}
