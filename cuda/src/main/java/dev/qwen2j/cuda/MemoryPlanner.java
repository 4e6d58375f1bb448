package dev.qwen2j.cuda;

import dev.qwen2j.core.config.Qwen2Config;

/**
 * Plans a model onto a device before anything is uploaded: a plan that does not fit is an error that says what
 * would (how many layers at this context, or what context with every layer).
 */
public final class MemoryPlanner {

    /** Prefill tokens per block the workspace holds activations for. */
    static final int PREFILL_BLOCK = 512;
    /** The workspace cuBLAS asks for on Hopper. */
    static final long CUBLAS_WORKSPACE = 32L << 20;

    private MemoryPlanner() {
    }

    /** Bytes per weight element: 2 for bf16, 1 plus one F32 scale per {@code groupSize} for int8. */
    public record WeightFormat(String name, double bytesPerElement) {
        public static final WeightFormat BF16 = new WeightFormat("bf16", 2);

        public static WeightFormat int8(int groupSize) {
            return new WeightFormat("int8", 1 + 4.0 / groupSize);
        }
    }

    /**
     * The plan for {@code gpuLayers} of the model's layers ({@code < 0}: all) at {@code contextLength} positions.
     *
     * @param kvBytesPerElement 4 for an F32 cache, 2 for BF16
     */
    public static MemoryPlan plan(Qwen2Config c, WeightFormat weights, int gpuLayers, int contextLength,
                                  int kvBytesPerElement, long freeBytes) {
        int layers = gpuLayers < 0 ? c.numHiddenLayers() : gpuLayers;
        if (layers > c.numHiddenLayers()) {
            throw new IllegalArgumentException("--gpu-layers " + gpuLayers + ": the model has " + c.numHiddenLayers()
                    + " layers");
        }
        boolean everyLayer = layers == c.numHiddenLayers();
        long weightBytes = Math.round(layers * layerElements(c) * weights.bytesPerElement())
                + layers * (2L * c.hiddenSize() + c.queryDim() + 2L * c.kvDim()) * Float.BYTES; // norms, biases
        if (everyLayer) {
            long table = (long) c.vocabSize() * c.hiddenSize();
            weightBytes += 2 * table; // the bf16 embedding, looked up on the device
            weightBytes += c.tieWordEmbeddings() ? 0 : Math.round(table * weights.bytesPerElement());
            weightBytes += (long) c.hiddenSize() * Float.BYTES;
        }
        long kv = 2L * layers * c.numKeyValueHeads() * c.headDim() * (long) contextLength * kvBytesPerElement;
        long activations = (long) PREFILL_BLOCK * (3L * c.hiddenSize() + c.queryDim() + 2L * c.kvDim()
                + 3L * c.intermediateSize()) * Float.BYTES;
        long workspace = activations + (long) c.vocabSize() * Float.BYTES + CUBLAS_WORKSPACE;
        return new MemoryPlan(layers, c.numHiddenLayers(), contextLength, weightBytes, kv, workspace, freeBytes);
    }

    /** {@link #plan}, or a {@link CudaException}-free error that says what would fit when it does not. */
    public static MemoryPlan require(Qwen2Config c, WeightFormat weights, int gpuLayers, int contextLength,
                                     int kvBytesPerElement, long freeBytes) {
        MemoryPlan plan = plan(c, weights, gpuLayers, contextLength, kvBytesPerElement, freeBytes);
        if (plan.fits()) {
            return plan;
        }
        int layersThatFit = 0;
        while (layersThatFit < c.numHiddenLayers()
                && plan(c, weights, layersThatFit + 1, contextLength, kvBytesPerElement, freeBytes).fits()) {
            layersThatFit++;
        }
        StringBuilder message = new StringBuilder(plan.describe()).append(": does not fit. ");
        message.append(layersThatFit == 0 ? "Not even one layer fits at this context"
                : "--gpu-layers " + layersThatFit + " fits at this context");
        int context = contextLength;
        while (context > 256 && !plan(c, weights, gpuLayers, context, kvBytesPerElement, freeBytes).fits()) {
            context /= 2;
        }
        if (context < contextLength && plan(c, weights, gpuLayers, context, kvBytesPerElement, freeBytes).fits()) {
            message.append(", and these layers fit with a context of ").append(context);
        }
        throw new IllegalArgumentException(message.toString());
    }

    /** Weight elements of one decoder layer: q, k, v, o projections and the three MLP matrices. */
    static long layerElements(Qwen2Config c) {
        long h = c.hiddenSize();
        return h * c.queryDim() + 2 * h * c.kvDim() + (long) c.queryDim() * h + 3 * h * c.intermediateSize();
    }
}
