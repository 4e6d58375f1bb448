package dev.qwen2j.model;

import dev.qwen2j.core.safetensors.Checkpoint;
import dev.qwen2j.core.config.Qwen2Config;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.core.safetensors.MappedTensor;
import dev.qwen2j.tensor.Backend;
import dev.qwen2j.tensor.Backend.LinearWeights;
import dev.qwen2j.tensor.Tensor;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The weights of a Qwen2 model as typed views over the mapped checkpoint: nothing is copied. q/k/v are stacked into
 * one linear map (one pass over the input for all three), gate/up into another; a tied model's lm_head is the
 * embedding matrix itself.
 *
 * @param embedTokens   {@code model.embed_tokens.weight}, [vocab, hidden]
 * @param layers        one entry per decoder layer
 * @param norm          {@code model.norm.weight}, [1, hidden]
 * @param lmHead        {@code lm_head.weight}, or the embedding matrix when tied
 * @param bytesPerToken bytes a decode step reads: every layer, the final norm and the lm_head
 */
record Qwen2Weights(Tensor embedTokens, List<Layer> layers, Tensor norm, LinearWeights lmHead, long bytesPerToken) {

    /**
     * One decoder layer.
     *
     * @param inputNorm         {@code input_layernorm.weight}, [1, hidden]
     * @param qkv               q_proj, k_proj, v_proj stacked, with their biases
     * @param outputProjection  {@code o_proj}, no bias
     * @param postAttentionNorm {@code post_attention_layernorm.weight}, [1, hidden]
     * @param gateUp            gate_proj and up_proj stacked
     * @param down              {@code down_proj}
     */
    record Layer(Tensor inputNorm, LinearWeights qkv, LinearWeights outputProjection, Tensor postAttentionNorm,
                 LinearWeights gateUp, LinearWeights down) {
    }

    /** Views every tensor the config calls for, checking names, shapes and dtypes; prepares them for {@code backend}. */
    static Qwen2Weights load(Checkpoint checkpoint, Qwen2Config config, Backend backend) throws IOException {
        Views views = new Views(checkpoint);
        int hidden = config.hiddenSize();
        int qDim = config.numAttentionHeads() * config.headDim();
        int kvDim = config.numKeyValueHeads() * config.headDim();
        int intermediate = config.intermediateSize();

        Tensor embedTokens = views.matrix("model.embed_tokens.weight", config.vocabSize(), hidden);
        List<Layer> layers = new ArrayList<>(config.numHiddenLayers());
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            Tensor inputNorm = views.vector(p + "input_layernorm.weight", hidden);
            LinearWeights qkv = backend.linear(
                    List.of(views.matrix(p + "self_attn.q_proj.weight", qDim, hidden),
                            views.matrix(p + "self_attn.k_proj.weight", kvDim, hidden),
                            views.matrix(p + "self_attn.v_proj.weight", kvDim, hidden)),
                    List.of(views.vector(p + "self_attn.q_proj.bias", qDim),
                            views.vector(p + "self_attn.k_proj.bias", kvDim),
                            views.vector(p + "self_attn.v_proj.bias", kvDim)));
            LinearWeights outputProjection = backend.linear(
                    List.of(views.matrix(p + "self_attn.o_proj.weight", hidden, qDim)), null);
            Tensor postAttentionNorm = views.vector(p + "post_attention_layernorm.weight", hidden);
            LinearWeights gateUp = backend.linear(
                    List.of(views.matrix(p + "mlp.gate_proj.weight", intermediate, hidden),
                            views.matrix(p + "mlp.up_proj.weight", intermediate, hidden)), null);
            LinearWeights down = backend.linear(
                    List.of(views.matrix(p + "mlp.down_proj.weight", hidden, intermediate)), null);
            layers.add(new Layer(inputNorm, qkv, outputProjection, postAttentionNorm, gateUp, down));
        }
        Tensor norm = views.vector("model.norm.weight", hidden);
        refuseUnusedLayers(checkpoint, config.numHiddenLayers());

        Tensor lmHeadMatrix = config.tieWordEmbeddings()
                ? embedTokens
                : views.matrix("lm_head.weight", config.vocabSize(), hidden);
        // A decode step reads every matrix once, except the embedding table, of which it reads one row (when
        // tied, the table is read in full as the lm_head, and counted once).
        long bytesPerToken = views.bytes - (config.tieWordEmbeddings() ? 0 : bytes(embedTokens));
        LinearWeights lmHead = backend.linear(List.of(lmHeadMatrix), null);
        return new Qwen2Weights(embedTokens, List.copyOf(layers), norm, lmHead, bytesPerToken);
    }

    /**
     * transformers loads a checkpoint with more layers than num_hidden_layers and only warns about the unused
     * weights; a runtime that silently computes a truncated model gives plausible wrong text, so this is an error.
     */
    private static void refuseUnusedLayers(Checkpoint checkpoint, int layers) throws IOException {
        int highest = -1;
        String prefix = "model.layers.";
        for (MappedTensor t : checkpoint.tensors()) {
            String name = t.name();
            int dot = name.indexOf('.', prefix.length());
            if (name.startsWith(prefix) && dot > prefix.length()) {
                try {
                    highest = Math.max(highest, Integer.parseInt(name, prefix.length(), dot, 10));
                } catch (NumberFormatException e) {
                    // not a numbered layer; an unknown name is not ours to judge
                }
            }
        }
        if (highest >= layers) {
            throw new IOException("config.json: num_hidden_layers is " + layers + " but " + checkpoint.path()
                    + " has " + (highest + 1) + " layers (model.layers.0 .. model.layers." + highest
                    + "); qwen2j does not run a model with its last layers left out");
        }
    }

    private static long bytes(Tensor t) {
        return (long) t.rows() * t.cols() * t.dtype().byteSize();
    }

    /** Looks tensors up by name and checks them against the config, with errors that name file and tensor. */
    private static final class Views {
        private final Checkpoint checkpoint;
        private long bytes;

        Views(Checkpoint checkpoint) {
            this.checkpoint = checkpoint;
        }

        Tensor matrix(String name, int rows, int cols) throws IOException {
            MappedTensor t = lookUp(name);
            if (t.shape().length != 2 || t.shape()[0] != rows || t.shape()[1] != cols) {
                throw mismatch(t, "[" + rows + ", " + cols + "]");
            }
            return view(t, rows, cols);
        }

        Tensor vector(String name, int length) throws IOException {
            MappedTensor t = lookUp(name);
            if (t.shape().length != 1 || t.shape()[0] != length) {
                throw mismatch(t, "[" + length + "]");
            }
            return view(t, 1, length);
        }

        private MappedTensor lookUp(String name) throws IOException {
            MappedTensor t = checkpoint.find(name).orElseThrow(() -> new IOException(
                    checkpoint.path() + ": tensor " + name + " is missing (config.json asks for it)"));
            if (t.dtype() != DType.F32 && t.dtype() != DType.BF16 && t.dtype() != DType.F16) {
                throw new IOException(t.file() + ": tensor " + name + " has dtype " + t.dtype()
                        + "; qwen2j reads F32, BF16 and F16 weights");
            }
            return t;
        }

        private Tensor view(MappedTensor t, int rows, int cols) {
            Tensor view = new Tensor(t.name(), t.data(), t.dtype(), rows, cols);
            bytes += bytes(view);
            return view;
        }

        private static IOException mismatch(MappedTensor t, String expected) {
            return new IOException(t.file() + ": tensor " + t.name() + " has shape " + Arrays.toString(t.shape())
                    + " but config.json implies " + expected);
        }
    }
}
