package dev.qwen2j.cuda;

import java.util.Locale;

/**
 * What a model needs on the GPU, against what the device has free: the weights of the offloaded layers (and of
 * the embedding and lm_head when every layer is offloaded, as llama.cpp's {@code -ngl} does), their KV cache at
 * the context length, and the workspace (activations of a prefill block, logits, the cuBLAS workspace).
 */
public record MemoryPlan(int gpuLayers, int totalLayers, int contextLength, long weightBytes, long kvCacheBytes,
                         long workspaceBytes, long freeBytes) {

    /** Everything the plan puts on the device. */
    public long totalBytes() {
        return weightBytes + kvCacheBytes + workspaceBytes;
    }

    public boolean fits() {
        return totalBytes() <= freeBytes;
    }

    /** One line for the log, e.g. "GPU plan: 64 of 64 layers, weights 61.0 GiB, KV cache 8.0 GiB, ...". */
    public String describe() {
        return String.format(Locale.ROOT, "GPU plan: %d of %d layers, weights %s, KV cache %s (%d positions), "
                        + "workspace %s: %s of %s free", gpuLayers, totalLayers, gib(weightBytes), gib(kvCacheBytes),
                contextLength, gib(workspaceBytes), gib(totalBytes()), gib(freeBytes));
    }

    static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }
}
