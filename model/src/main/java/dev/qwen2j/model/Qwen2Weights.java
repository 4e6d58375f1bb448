package dev.qwen2j.model;

import dev.qwen2j.core.safetensors.Checkpoint;
import dev.qwen2j.core.config.Qwen2Config;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.core.safetensors.MappedTensor;
import dev.qwen2j.quant.CompressedTensors;
import dev.qwen2j.quant.Int8Matrix;
import dev.qwen2j.quant.Int8Quantizer;
import dev.qwen2j.quant.QuantizationProgress;
import dev.qwen2j.quant.QuantizeJobs;
import dev.qwen2j.quant.Quantization;
import dev.qwen2j.quant.StoredInt8;
import dev.qwen2j.tensor.Backend;
import dev.qwen2j.tensor.Backend.LinearWeights;
import dev.qwen2j.tensor.CpuBackend;
import dev.qwen2j.tensor.Tensor;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The weights of a Qwen2 model as typed views over the mapped checkpoint: nothing is copied, except what is quantized
 * at load. q/k/v are stacked into one linear map (one pass over the input for all three), gate/up into another; a tied
 * model's lm_head is the embedding matrix itself (or, quantized, an int8 copy of it; the lookup stays float).
 *
 * @param embedTokens   {@code model.embed_tokens.weight}, [vocab, hidden]
 * @param layers        one entry per decoder layer
 * @param norm          {@code model.norm.weight}, [1, hidden]
 * @param lmHead        {@code lm_head.weight}, or the embedding matrix when tied
 * @param bytesPerToken bytes a decode step reads: every layer, the final norm and the lm_head
 * @param format        the linear maps' weights: {@code int8} when any is int8, else the embedding's dtype ({@code bf16}, ...)
 * @param quantizeMillis wall-clock milliseconds spent quantizing at load (0 when nothing was quantized)
 */
record Qwen2Weights(Tensor embedTokens, List<Layer> layers, Tensor norm, LinearWeights lmHead, long bytesPerToken,
                    String format, long quantizeMillis) {

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

    /** Loads float weights as they are stored; see {@link #load(Checkpoint, Qwen2Config, Backend, CompressedTensors, Quantization, QuantizationProgress)}. */
    static Qwen2Weights load(Checkpoint checkpoint, Qwen2Config config, Backend backend) throws IOException {
        return load(checkpoint, config, backend, null, null, QuantizationProgress.NONE);
    }

    /**
     * Views every tensor the config calls for, checking names, shapes and dtypes; prepares them for {@code backend}.
     *
     * @param stored   the folder's compressed-tensors config, or null when it stores float weights
     * @param quantize quantize the remaining float linear maps to int8 (in parallel, reporting to {@code progress}), or null
     */
    static Qwen2Weights load(Checkpoint checkpoint, Qwen2Config config, Backend backend, CompressedTensors stored,
                             Quantization quantize, QuantizationProgress progress) throws IOException {
        return load(checkpoint, config, LayerSplit.of(backend, config.numHiddenLayers()), stored, quantize, progress);
    }

    /** As above, each layer's weights prepared for the backend {@code split} gives it. */
    static Qwen2Weights load(Checkpoint checkpoint, Qwen2Config config, LayerSplit split, CompressedTensors stored,
                             Quantization quantize, QuantizationProgress progress) throws IOException {
        Views views = new Views(checkpoint, config, split.embedding(), stored, quantize);
        int hidden = config.hiddenSize();
        int qDim = config.numAttentionHeads() * config.headDim();
        int kvDim = config.numKeyValueHeads() * config.headDim();
        int intermediate = config.intermediateSize();

        Tensor embedTokens = views.floatMatrix("model.embed_tokens.weight", config.vocabSize(), hidden);
        List<Layer> layers = new ArrayList<>(config.numHiddenLayers());
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            String p = "model.layers." + i + ".";
            views.backend = split.of(i);
            Tensor inputNorm = views.vector(p + "input_layernorm.weight", hidden);
            LinearWeights qkv = views.linear(
                    List.of(p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj"),
                    new int[]{qDim, kvDim, kvDim}, hidden,
                    List.of(views.vector(p + "self_attn.q_proj.bias", qDim),
                            views.vector(p + "self_attn.k_proj.bias", kvDim),
                            views.vector(p + "self_attn.v_proj.bias", kvDim)));
            LinearWeights outputProjection = views.linear(List.of(p + "self_attn.o_proj"), new int[]{hidden}, qDim, null);
            Tensor postAttentionNorm = views.vector(p + "post_attention_layernorm.weight", hidden);
            LinearWeights gateUp = views.linear(List.of(p + "mlp.gate_proj", p + "mlp.up_proj"),
                    new int[]{intermediate, intermediate}, hidden, null);
            LinearWeights down = views.linear(List.of(p + "mlp.down_proj"), new int[]{hidden}, intermediate, null);
            layers.add(new Layer(inputNorm, qkv, outputProjection, postAttentionNorm, gateUp, down));
        }
        views.backend = split.head();
        Tensor norm = views.vector("model.norm.weight", hidden);
        refuseUnusedLayers(checkpoint, config.numHiddenLayers());

        LinearWeights lmHead = config.tieWordEmbeddings()
                ? views.tiedLmHead(embedTokens)
                : views.linear(List.of("lm_head"), new int[]{config.vocabSize()}, hidden, null);
        long quantizeMillis = QuantizeJobs.run(views.jobs, split.rest().threads(), progress);
        QuantizeJobs.run(views.repacks, split.rest().threads(), (done, all) -> { });
        String format = views.int8 ? "int8" : embedTokens.dtype().name().toLowerCase(java.util.Locale.ROOT);
        return new Qwen2Weights(embedTokens, List.copyOf(layers), norm, lmHead, views.bytes, format, quantizeMillis);
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

    /**
     * Looks tensors up by name and checks them against the config, with errors that name file and tensor; builds the
     * linear maps in the format they are stored in or are to be quantized to, and counts the bytes a decode step reads.
     */
    private static final class Views {
        private final Checkpoint checkpoint;
        private Backend backend; // the backend of the layer being loaded
        private final CompressedTensors stored;
        private final Quantization quantize;
        private final List<QuantizeJobs.Job> jobs = new ArrayList<>();
        private final List<QuantizeJobs.Repack> repacks = new ArrayList<>();
        private long bytes;
        private boolean int8;

        Views(Checkpoint checkpoint, Qwen2Config config, Backend backend, CompressedTensors stored, Quantization quantize) {
            this.checkpoint = checkpoint;
            this.backend = backend;
            this.stored = stored;
            this.quantize = quantize;
        }

        /**
         * The Linear modules {@code modules} ({@code rows[i]} outputs each, {@code cols} inputs) stacked into one map:
         * int8 when the folder stores them so or {@code quantize} asks for it, otherwise float.
         */
        LinearWeights linear(List<String> modules, int[] rows, int cols, List<Tensor> biases) throws IOException {
            List<Int8Matrix> packed = new ArrayList<>();
            List<Tensor> floats = new ArrayList<>();
            for (int i = 0; i < modules.size(); i++) {
                String module = modules.get(i);
                var group = stored == null ? null : stored.groupFor(module).orElse(null);
                if (group != null) {
                    packed.add(StoredInt8.load(checkpoint, module, group, rows[i], cols));
                } else {
                    floats.add(floatMatrix(module + ".weight", rows[i], cols));
                }
            }
            boolean quantizeHere = quantize != null && (quantize.lmHead() || !modules.equals(List.of("lm_head")));
            if (floats.isEmpty() && tiles(packed.stream().mapToInt(Int8Matrix::rows).toArray(),
                    packed.stream().mapToInt(Int8Matrix::groupSize).toArray())) {
                packed.replaceAll(this::scheduleRepack);
            }
            if (!packed.isEmpty() && !floats.isEmpty() && !quantizeHere) {
                throw new IOException(checkpoint.path() + ": " + floats.getFirst().name() + " is float but "
                        + packed.getFirst().name() + " is int8; qwen2j fuses them into one map and needs one format"
                        + " (quantize the rest with --quantize int8)");
            }
            if (!floats.isEmpty() && quantizeHere) {
                int[] groups = floats.stream().mapToInt(t -> quantize.groupSizeFor(t.cols())).toArray();
                boolean tiled = packed.isEmpty() && tiles(floats.stream().mapToInt(Tensor::rows).toArray(), groups);
                for (Tensor t : floats) {
                    packed.add(scheduleQuantization(t, tiled));
                }
                packed.sort(java.util.Comparator.comparingInt(m -> modules.indexOf(m.name().substring(0,
                        m.name().length() - ".weight".length()))));
                floats.clear();
            }
            if (floats.isEmpty()) {
                int8 = true;
                packed.forEach(m -> bytes += m.byteSize());
                return backend.packedLinear(packed, biases);
            }
            floats.forEach(t -> bytes += Qwen2Weights.bytes(t));
            return backend.linear(floats, biases);
        }

        /** The lm_head of a tied model: the embedding matrix, or an int8 copy of it when quantizing it. */
        LinearWeights tiedLmHead(Tensor embedTokens) {
            if (quantize != null && quantize.lmHead()) {
                Int8Matrix lmHead = scheduleQuantization(embedTokens, tiles(new int[]{embedTokens.rows()},
                        new int[]{quantize.groupSizeFor(embedTokens.cols())}));
                int8 = true;
                bytes += lmHead.byteSize();
                return backend.packedLinear(List.of(lmHead), null);
            }
            bytes += Qwen2Weights.bytes(embedTokens); // read in full as the lm_head, counted once
            return backend.linear(List.of(embedTokens), null);
        }

        /**
         * Whether the int8 parts of one map (these rows and group sizes) take the tiled layout: only on the CPU, where
         * its kernels run, at the widths where they are faster, and for all parts or none, since they share one format.
         */
        private boolean tiles(int[] rows, int[] groups) {
            if (!(backend instanceof CpuBackend cpu) || !Int8Matrix.tiledAt(cpu.vectorBits())) {
                return false;
            }
            for (int i = 0; i < rows.length; i++) {
                if (!Int8Matrix.tileable(rows[i], groups[i])) {
                    return false;
                }
            }
            return true;
        }

        /** A tiled copy of a stored (mapped, row-major) matrix, filled with the other load jobs. */
        private Int8Matrix scheduleRepack(Int8Matrix stored) {
            Int8Matrix target = Int8Matrix.allocateTiled(stored.name(), stored.rows(), stored.cols(), stored.groupSize());
            repacks.add(new QuantizeJobs.Repack(stored, target));
            return target;
        }

        private Int8Matrix scheduleQuantization(Tensor t, boolean tiled) {
            int group = quantize.groupSizeFor(t.cols());
            if (t.cols() % group != 0) {
                throw new IllegalArgumentException(t.name() + ": group size " + group + " does not divide its rows of "
                        + t.cols() + " inputs; choose another group size or channel");
            }
            Int8Matrix target = Int8Quantizer.allocate(t, group, tiled);
            jobs.add(new QuantizeJobs.Job(t, target, DType.F32));
            return target;
        }

        Tensor floatMatrix(String name, int rows, int cols) throws IOException {
            MappedTensor t = lookUp(name);
            if (t.shape().length != 2 || t.shape()[0] != rows || t.shape()[1] != cols) {
                throw mismatch(t, "[" + rows + ", " + cols + "]");
            }
            return new Tensor(t.name(), t.data(), t.dtype(), rows, cols);
        }

        Tensor vector(String name, int length) throws IOException {
            MappedTensor t = lookUp(name);
            if (t.shape().length != 1 || t.shape()[0] != length) {
                throw mismatch(t, "[" + length + "]");
            }
            Tensor view = new Tensor(t.name(), t.data(), t.dtype(), 1, length);
            bytes += Qwen2Weights.bytes(view);
            return view;
        }

        private MappedTensor lookUp(String name) throws IOException {
            MappedTensor t = checkpoint.find(name).orElseThrow(() -> new IOException(
                    checkpoint.path() + ": tensor " + name + " is missing (config.json asks for it)"));
            if (t.dtype() != DType.F32 && t.dtype() != DType.BF16 && t.dtype() != DType.F16) {
                throw new IOException(t.file() + ": tensor " + name + " has dtype " + t.dtype()
                        + (t.dtype() == DType.I8 && stored == null
                        ? "; int8 weights need a compressed-tensors quantization_config in config.json"
                        : "; qwen2j reads F32, BF16 and F16 weights"));
            }
            return t;
        }

        private static IOException mismatch(MappedTensor t, String expected) {
            return new IOException(t.file() + ": tensor " + t.name() + " has shape " + Arrays.toString(t.shape())
                    + " but config.json implies " + expected);
        }
    }
}
