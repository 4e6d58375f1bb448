package dev.qwen2j.core.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwen2j.core.config.Qwen2Config;
import dev.qwen2j.core.config.RopeScaling;
import dev.qwen2j.core.safetensors.Checkpoint;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.core.safetensors.SafetensorsWriter;
import dev.qwen2j.core.safetensors.SafetensorsWriter.TensorData;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes random-weight Qwen2 checkpoints in Hugging Face layout, for tests, benchmarks and the
 * {@code synth} command: {@code config.json}, {@code generation_config.json}, the weights under their
 * transformers names (one {@code model.safetensors}, or shards plus {@code model.safetensors.index.json}),
 * and the bundled Qwen tokenizer files.
 *
 * <pre>{@code
 * Path folder = RandomQwen2Checkpoint.builder().hiddenSize(64).layers(2).vocabSize(1000).write(dir);
 * Path big = RandomQwen2Checkpoint.qwen25_05b().write(dir2);   // ~1 GB, a few seconds
 * }</pre>
 *
 * Weights are N(0, 0.02)-like (norm weights around 1) so activations stay in a sane range. The values
 * depend only on the seed, the shape and the tensor name.
 */
public final class RandomQwen2Checkpoint {

    /** Token ids of the bundled Qwen tokenizer. */
    public static final int ENDOFTEXT_ID = 151643;
    public static final int IM_END_ID = 151645;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final float WEIGHT_STD = 0.02f;

    private RandomQwen2Checkpoint() {
    }

    /** A small model (hidden 64, 2 layers, 4 heads, 2 KV heads, full Qwen vocabulary, BF16, tied). */
    public static Builder builder() {
        return new Builder();
    }

    /** The shape of Qwen2.5-0.5B: hidden 896, 24 layers, 14 heads, 2 KV heads, intermediate 4864, tied, BF16. */
    public static Builder qwen25_05b() {
        return new Builder().hiddenSize(896).intermediateSize(4864).layers(24).heads(14).kvHeads(2)
                .vocabSize(151936).dtype(DType.BF16).tiedEmbeddings(true).ropeTheta(1_000_000.0)
                .maxPositionEmbeddings(32768);
    }

    /** Qwen2.5-7B's shape (also R1-Distill-Qwen-7B's): ~15 GB in BF16, untied. */
    public static Builder qwen25_7b() {
        return new Builder().hiddenSize(3584).intermediateSize(18944).layers(28).heads(28).kvHeads(4)
                .vocabSize(152064).dtype(DType.BF16).tiedEmbeddings(false).ropeTheta(1_000_000.0)
                .maxPositionEmbeddings(32768);
    }

    /** Settings of the checkpoint to write; every setter returns this builder. */
    public static final class Builder {
        private int hiddenSize = 64;
        private int intermediateSize = 128;
        private int layers = 2;
        private int heads = 4;
        private int kvHeads = 2;
        private int vocabSize = 151936;
        private DType dtype = DType.BF16;
        private boolean tiedEmbeddings = true;
        private int shards = 1;
        private long seed = 42;
        private double ropeTheta = 1_000_000.0;
        private int maxPositionEmbeddings = 32768;
        private RopeScaling ropeScaling;

        private Builder() {
        }

        public Builder hiddenSize(int value) { hiddenSize = value; return this; }
        public Builder intermediateSize(int value) { intermediateSize = value; return this; }
        public Builder layers(int value) { layers = value; return this; }
        public Builder heads(int value) { heads = value; return this; }
        public Builder kvHeads(int value) { kvHeads = value; return this; }
        public Builder vocabSize(int value) { vocabSize = value; return this; }
        /** BF16, F16 or F32. */
        public Builder dtype(DType value) { dtype = value; return this; }
        public Builder tiedEmbeddings(boolean value) { tiedEmbeddings = value; return this; }
        /** 1 writes {@code model.safetensors}; more writes that many shards and an index. */
        public Builder shards(int value) { shards = value; return this; }
        public Builder seed(long value) { seed = value; return this; }
        public Builder ropeTheta(double value) { ropeTheta = value; return this; }
        public Builder maxPositionEmbeddings(int value) { maxPositionEmbeddings = value; return this; }
        /** Written as config.json's {@code rope_scaling}; null (the default) for none. */
        public Builder ropeScaling(RopeScaling value) { ropeScaling = value; return this; }

        /**
         * The configuration that {@link #write} puts in config.json.
         *
         * @throws IllegalArgumentException when the settings do not make a valid Qwen2 model
         */
        public Qwen2Config config() {
            if (dtype != DType.BF16 && dtype != DType.F16 && dtype != DType.F32) {
                throw new IllegalArgumentException("dtype: random checkpoints are BF16, F16 or F32, not " + dtype);
            }
            return new Qwen2Config(hiddenSize, intermediateSize, layers, heads, kvHeads,
                    heads > 0 ? hiddenSize / heads : 0, 1e-6, ropeTheta, ropeScaling, maxPositionEmbeddings,
                    false, maxPositionEmbeddings, layers, tiedEmbeddings, vocabSize, ENDOFTEXT_ID,
                    new int[] {IM_END_ID}, torchDtype(dtype));
        }

        /** Writes the checkpoint into {@code folder} (created if needed) and returns the folder. */
        public Path write(Path folder) throws IOException {
            Qwen2Config config = config();
            List<TensorData> tensors = tensors(config);
            if (shards < 1 || shards > tensors.size()) {
                throw new IllegalArgumentException("shards: must be between 1 and " + tensors.size() + ", found " + shards);
            }
            Files.createDirectories(folder);
            writeWeights(folder, tensors);
            writeJson(folder.resolve(Qwen2Config.FILE), configJson(config));
            writeJson(folder.resolve("generation_config.json"), generationConfigJson());
            BundledTokenizer.copyTo(folder);
            return folder;
        }

        private List<TensorData> tensors(Qwen2Config c) {
            long hidden = c.hiddenSize();
            long q = c.queryDim();
            long kv = c.kvDim();
            long inter = c.intermediateSize();
            List<TensorData> tensors = new ArrayList<>();
            tensors.add(weight("model.embed_tokens.weight", c.vocabSize(), hidden));
            for (int i = 0; i < c.numHiddenLayers(); i++) {
                String p = "model.layers." + i + ".";
                tensors.add(norm(p + "input_layernorm.weight", hidden));
                tensors.add(weight(p + "self_attn.q_proj.weight", q, hidden));
                tensors.add(weight(p + "self_attn.q_proj.bias", q));
                tensors.add(weight(p + "self_attn.k_proj.weight", kv, hidden));
                tensors.add(weight(p + "self_attn.k_proj.bias", kv));
                tensors.add(weight(p + "self_attn.v_proj.weight", kv, hidden));
                tensors.add(weight(p + "self_attn.v_proj.bias", kv));
                tensors.add(weight(p + "self_attn.o_proj.weight", hidden, q));
                tensors.add(norm(p + "post_attention_layernorm.weight", hidden));
                tensors.add(weight(p + "mlp.gate_proj.weight", inter, hidden));
                tensors.add(weight(p + "mlp.up_proj.weight", inter, hidden));
                tensors.add(weight(p + "mlp.down_proj.weight", hidden, inter));
            }
            tensors.add(norm("model.norm.weight", hidden));
            if (!c.tieWordEmbeddings()) {
                tensors.add(weight("lm_head.weight", c.vocabSize(), hidden));
            }
            return tensors;
        }

        private TensorData weight(String name, long... shape) {
            return random(name, 0f, WEIGHT_STD, shape);
        }

        private TensorData norm(String name, long... shape) {
            return random(name, 1f, WEIGHT_STD, shape);
        }

        private TensorData random(String name, float mean, float std, long... shape) {
            long tensorSeed = seed * 31 + name.hashCode();
            DType type = dtype;
            return new TensorData(name, type, shape, target -> RandomWeights.fill(target, type, tensorSeed, mean, std));
        }

        private void writeWeights(Path folder, List<TensorData> tensors) throws IOException {
            Map<String, String> metadata = Map.of("format", "pt");
            Path single = folder.resolve(Checkpoint.SINGLE_FILE);
            Path index = folder.resolve(Checkpoint.INDEX_FILE);
            if (shards == 1) {
                Files.deleteIfExists(index);
                SafetensorsWriter.write(single, tensors, metadata);
                return;
            }
            Files.deleteIfExists(single);
            long total = 0;
            for (TensorData t : tensors) {
                total += t.byteSize();
            }
            // contiguous groups of roughly equal bytes, none empty
            List<List<TensorData>> groups = new ArrayList<>();
            groups.add(new ArrayList<>());
            long written = 0;
            for (int i = 0; i < tensors.size(); i++) {
                List<TensorData> current = groups.getLast();
                int shardsLeftAfter = shards - groups.size();
                boolean mustMove = tensors.size() - i <= shardsLeftAfter;
                boolean full = written >= total * groups.size() / shards;
                if (!current.isEmpty() && shardsLeftAfter > 0 && (mustMove || full)) {
                    groups.add(new ArrayList<>());
                }
                groups.getLast().add(tensors.get(i));
                written += tensors.get(i).byteSize();
            }
            Map<String, String> weightMap = new TreeMap<>();
            for (int s = 0; s < groups.size(); s++) {
                String file = String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
                SafetensorsWriter.write(folder.resolve(file), groups.get(s), metadata);
                for (TensorData t : groups.get(s)) {
                    weightMap.put(t.name(), file);
                }
            }
            ObjectNode indexJson = JSON.createObjectNode();
            indexJson.putObject("metadata").put("total_size", total);
            ObjectNode map = indexJson.putObject("weight_map");
            weightMap.forEach(map::put);
            writeJson(index, indexJson);
        }

        private ObjectNode configJson(Qwen2Config c) {
            ObjectNode json = JSON.createObjectNode();
            json.putArray("architectures").add("Qwen2ForCausalLM");
            json.put("attention_dropout", 0.0);
            json.put("bos_token_id", c.bosTokenId());
            json.put("eos_token_id", c.eosTokenIds()[0]);
            json.put("hidden_act", "silu");
            json.put("hidden_size", c.hiddenSize());
            json.put("initializer_range", 0.02);
            json.put("intermediate_size", c.intermediateSize());
            json.put("max_position_embeddings", c.maxPositionEmbeddings());
            json.put("max_window_layers", c.maxWindowLayers());
            json.put("model_type", "qwen2");
            json.put("num_attention_heads", c.numAttentionHeads());
            json.put("num_hidden_layers", c.numHiddenLayers());
            json.put("num_key_value_heads", c.numKeyValueHeads());
            json.put("rms_norm_eps", c.rmsNormEps());
            if (c.ropeScaling() == null) {
                json.putNull("rope_scaling");
            } else {
                RopeScaling r = c.ropeScaling();
                ObjectNode scaling = json.putObject("rope_scaling");
                scaling.put("type", r.type());
                scaling.put("factor", r.factor());
                scaling.put("original_max_position_embeddings", r.originalMaxPositionEmbeddings());
                putIfSet(scaling, "beta_fast", r.betaFast());
                putIfSet(scaling, "beta_slow", r.betaSlow());
                putIfSet(scaling, "mscale", r.mscale());
                putIfSet(scaling, "mscale_all_dim", r.mscaleAllDim());
                putIfSet(scaling, "attention_factor", r.attentionFactor());
            }
            json.put("rope_theta", c.ropeTheta());
            json.put("sliding_window", c.slidingWindow());
            json.put("tie_word_embeddings", c.tieWordEmbeddings());
            json.put("torch_dtype", c.torchDtype());
            json.put("use_cache", true);
            json.put("use_sliding_window", c.useSlidingWindow());
            json.put("vocab_size", c.vocabSize());
            return json;
        }

        private static void putIfSet(ObjectNode node, String field, Double value) {
            if (value != null) {
                node.put(field, value);
            }
        }

        /** The sampling defaults Qwen2.5-Instruct ships. */
        private static ObjectNode generationConfigJson() {
            ObjectNode json = JSON.createObjectNode();
            json.put("bos_token_id", ENDOFTEXT_ID);
            json.put("do_sample", true);
            json.putArray("eos_token_id").add(IM_END_ID).add(ENDOFTEXT_ID);
            json.put("pad_token_id", ENDOFTEXT_ID);
            json.put("repetition_penalty", 1.1);
            json.put("temperature", 0.7);
            json.put("top_k", 20);
            json.put("top_p", 0.8);
            return json;
        }

        private static String torchDtype(DType dtype) {
            return switch (dtype) {
                case BF16 -> "bfloat16";
                case F16 -> "float16";
                default -> "float32";
            };
        }
    }

    private static void writeJson(Path file, ObjectNode json) throws IOException {
        Path temp = file.resolveSibling("." + file.getFileName() + "." + ProcessHandle.current().pid() + "."
                + System.nanoTime() + ".tmp");
        try {
            Files.writeString(temp, JSON.writeValueAsString(json) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
    }
}
