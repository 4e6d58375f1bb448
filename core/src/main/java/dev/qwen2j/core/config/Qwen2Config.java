package dev.qwen2j.core.config;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The architecture of a Qwen2-family model, read from a Hugging Face {@code config.json} with the
 * fields and defaults transformers' {@code Qwen2Config} uses.
 *
 * @param headDim         per-head size; {@code hidden_size / num_attention_heads} when config.json has none
 * @param ropeScaling     null when the model uses plain RoPE
 * @param slidingWindow   window size; 0 when config.json sets none and sliding windows are off
 * @param bosTokenId      null when config.json has none
 * @param eosTokenIds     one or several ids (config.json may hold an int or a list); may be empty
 * @param torchDtype      the checkpoint's dtype as named by transformers ({@code bfloat16}, ...); null when absent
 */
public record Qwen2Config(int hiddenSize, int intermediateSize, int numHiddenLayers, int numAttentionHeads,
                          int numKeyValueHeads, int headDim, double rmsNormEps, double ropeTheta,
                          RopeScaling ropeScaling, int maxPositionEmbeddings, boolean useSlidingWindow,
                          int slidingWindow, int maxWindowLayers, boolean tieWordEmbeddings, int vocabSize,
                          Integer bosTokenId, int[] eosTokenIds, String torchDtype) {

    /** File name inside a model folder. */
    public static final String FILE = "config.json";
    /** The {@code model_type} values qwen2j runs. */
    public static final List<String> SUPPORTED_MODEL_TYPES = List.of("qwen2");
    /** The only {@code hidden_act} the forward pass computes (SwiGLU with SiLU). */
    public static final String SUPPORTED_ACTIVATION = "silu";

    /** @throws IllegalArgumentException naming the config.json field that is out of range */
    public Qwen2Config {
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("num_key_value_heads", numKeyValueHeads);
        positive("head_dim", headDim);
        positive("max_position_embeddings", maxPositionEmbeddings);
        positive("vocab_size", vocabSize);
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads: " + numAttentionHeads
                    + " heads do not divide hidden_size " + hiddenSize);
        }
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_key_value_heads: " + numKeyValueHeads
                    + " KV heads do not divide num_attention_heads " + numAttentionHeads);
        }
        if (!(rmsNormEps > 0) || Double.isInfinite(rmsNormEps)) {
            throw new IllegalArgumentException("rms_norm_eps: must be positive, found " + rmsNormEps);
        }
        if (!(ropeTheta > 0) || Double.isInfinite(ropeTheta)) {
            throw new IllegalArgumentException("rope_theta: must be positive, found " + ropeTheta);
        }
        if (useSlidingWindow && slidingWindow <= 0) {
            throw new IllegalArgumentException("sliding_window: must be positive when use_sliding_window is on, found "
                    + slidingWindow);
        }
        if (slidingWindow < 0 || maxWindowLayers < 0) {
            throw new IllegalArgumentException("sliding_window / max_window_layers: must not be negative");
        }
        if (bosTokenId != null && bosTokenId < 0) {
            throw new IllegalArgumentException("bos_token_id: must not be negative, found " + bosTokenId);
        }
        eosTokenIds = eosTokenIds.clone();
        for (int id : eosTokenIds) {
            if (id < 0) {
                throw new IllegalArgumentException("eos_token_id: must not be negative, found " + id);
            }
        }
    }

    private static void positive(String field, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(field + ": must be positive, found " + value);
        }
    }

    /**
     * Reads {@code folder/config.json}.
     *
     * @throws ConfigException when the file is missing or malformed, the model is not Qwen2-family, or a
     *                         field is out of range; the message names file and field
     */
    public static Qwen2Config load(Path folder) throws IOException {
        Path file = folder.resolve(FILE);
        // notExists, not !exists: a folder the user may not read is "permission denied" (from the read), not "missing"
        if (java.nio.file.Files.notExists(file)) {
            throw new ConfigException(file + ": missing (is " + folder + " a Hugging Face model folder?)");
        }
        JsonFields json = JsonFields.read(file);
        String modelType = json.optionalString("model_type", null);
        if (modelType == null || !SUPPORTED_MODEL_TYPES.contains(modelType)) {
            throw json.error("model_type", (modelType == null ? "missing" : "'" + modelType + "' is not supported")
                    + "; qwen2j runs Qwen2-family models, model_type " + SUPPORTED_MODEL_TYPES);
        }
        String activation = json.optionalString("hidden_act", SUPPORTED_ACTIVATION);
        if (!SUPPORTED_ACTIVATION.equals(activation)) {
            throw json.error("hidden_act", "'" + activation + "' is not supported; qwen2j runs the Qwen2 MLP with '"
                    + SUPPORTED_ACTIVATION + "' (transformers' default)");
        }
        int hiddenSize = json.requiredInt("hidden_size");
        int heads = json.requiredInt("num_attention_heads");
        int maxPositions = json.optionalInt("max_position_embeddings", 32768);
        boolean useSlidingWindow = json.optionalBoolean("use_sliding_window", false);
        try {
            return new Qwen2Config(
                    hiddenSize,
                    json.requiredInt("intermediate_size"),
                    json.requiredInt("num_hidden_layers"),
                    heads,
                    json.optionalInt("num_key_value_heads", heads),
                    json.optionalInt("head_dim", heads > 0 ? hiddenSize / heads : 0),
                    json.optionalDouble("rms_norm_eps", 1e-6),
                    json.optionalDouble("rope_theta", 10000.0),
                    RopeScaling.read(json, maxPositions),
                    maxPositions,
                    useSlidingWindow,
                    json.optionalInt("sliding_window", useSlidingWindow ? 4096 : 0),
                    json.optionalInt("max_window_layers", 28),
                    json.optionalBoolean("tie_word_embeddings", false),
                    json.requiredInt("vocab_size"),
                    json.nullableInt("bos_token_id"),
                    json.intOrIntList("eos_token_id"),
                    json.optionalString("torch_dtype", json.optionalString("dtype", null)));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(file + ": " + e.getMessage());
        }
    }

    @Override
    public int[] eosTokenIds() {
        return eosTokenIds.clone();
    }

    /** Width of all query heads together: {@code numAttentionHeads * headDim}. */
    public int queryDim() {
        return numAttentionHeads * headDim;
    }

    /** Width of all key (or value) heads together: {@code numKeyValueHeads * headDim}. */
    public int kvDim() {
        return numKeyValueHeads * headDim;
    }

    @Override
    public String toString() {
        return "Qwen2Config[hidden=" + hiddenSize + ", intermediate=" + intermediateSize + ", layers=" + numHiddenLayers
                + ", heads=" + numAttentionHeads + ", kvHeads=" + numKeyValueHeads + ", headDim=" + headDim
                + ", vocab=" + vocabSize + ", maxPositions=" + maxPositionEmbeddings + ", ropeTheta=" + ropeTheta
                + ", ropeScaling=" + ropeScaling + ", rmsNormEps=" + rmsNormEps + ", tied=" + tieWordEmbeddings
                + ", slidingWindow=" + (useSlidingWindow ? slidingWindow + " (" + maxWindowLayers + " layers)" : "off")
                + ", bos=" + bosTokenId + ", eos=" + Arrays.toString(eosTokenIds) + ", dtype=" + torchDtype + "]";
    }
}
