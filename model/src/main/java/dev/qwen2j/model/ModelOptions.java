package dev.qwen2j.model;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.quant.Quantization;
import dev.qwen2j.tensor.VectorBits;

/**
 * How a {@link Model} is loaded: worker threads, the context length every session is sized for, the element
 * type of the KV cache, and the width of the SIMD kernels. Build with {@link #builder()}; {@link #defaults()}
 * uses all physical cores, the model's own context length capped at {@value #DEFAULT_MAX_CONTEXT}, an F32 cache
 * and the platform's preferred vector width.
 *
 * @param threads       worker threads for the kernels; {@code 0} = physical cores; at most {@link #maxThreads()}
 * @param contextLength positions each session's KV cache holds; {@code 0} = min(max_position_embeddings, 32768);
 *                      {@link Model#load} refuses one whose KV cache would not fit in memory
 * @param kvCacheType   {@link DType#F32} (exact), {@link DType#BF16} (half the memory) or {@link DType#I8} (a quarter,
 *                      plus one F32 scale per head and position)
 * @param vectorBits    128, 256 or 512 to force the Vector API kernels' width; {@code 0} = the one
 *                      {@code -Dqwen2j.vector.bits} forces, else the platform's preferred width
 * @param quantize      quantize the float linear maps to int8 while loading (e.g. {@link Quantization#INT8}); null
 *                      keeps the folder's own formats (a compressed-tensors int8 folder is int8 either way)
 * @param device        where the layers run: {@link Device#CPU} (the default), a CUDA device, or {@link Device#AUTO}
 * @param gpuLayers     on a CUDA device, how many of the first layers it runs (the rest run on the CPU, llama.cpp's
 *                      {@code -ngl}); {@code -1} (the default) = all
 */
public record ModelOptions(int threads, int contextLength, DType kvCacheType, int vectorBits, Quantization quantize,
                           Device device, int gpuLayers) {

    /** The default cap on the context length when none is chosen. */
    public static final int DEFAULT_MAX_CONTEXT = 32768;

    public ModelOptions {
        if (threads < 0 || threads > maxThreads()) {
            throw new IllegalArgumentException("threads must be in [0, " + maxThreads() + "] (0 = physical cores; at most "
                    + THREADS_PER_CORE + " × the " + Runtime.getRuntime().availableProcessors()
                    + " available cores), got " + threads);
        }
        if (contextLength < 0) {
            throw new IllegalArgumentException("contextLength must be >= 0 (0 = model default), got " + contextLength);
        }
        if (kvCacheType != DType.F32 && kvCacheType != DType.BF16 && kvCacheType != DType.I8) {
            throw new IllegalArgumentException("kvCacheType must be F32, BF16 or I8, got " + kvCacheType);
        }
        VectorBits.check(vectorBits, "vectorBits");
        if (device == null) {
            throw new IllegalArgumentException("device must be cpu, cuda, cuda:N or auto, got null");
        }
        if (gpuLayers < -1) {
            throw new IllegalArgumentException("gpuLayers must be >= 0, or -1 for all, got " + gpuLayers);
        }
        if (gpuLayers >= 0 && device.kind() == Device.Kind.CPU) {
            throw new IllegalArgumentException("gpuLayers " + gpuLayers + " needs a cuda (or auto) device, not cpu");
        }
    }

    /** The options of the first releases: on the CPU. */
    public ModelOptions(int threads, int contextLength, DType kvCacheType, int vectorBits, Quantization quantize) {
        this(threads, contextLength, kvCacheType, vectorBits, quantize, Device.CPU, -1);
    }

    /**
     * {@code threads} may be at most this many times the available cores: more only adds hand-off cost, and a
     * mistyped huge count would otherwise start threads until the OS refuses.
     */
    public static final int THREADS_PER_CORE = 4;

    /** The largest {@code threads} accepted on this machine. */
    public static int maxThreads() {
        return THREADS_PER_CORE * Runtime.getRuntime().availableProcessors();
    }

    /** Physical cores, the model's context (at most 32768), F32 cache. */
    public static ModelOptions defaults() {
        return builder().build();
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The context length for a model whose config allows {@code maxPositionEmbeddings} positions. */
    int contextLengthFor(int maxPositionEmbeddings) {
        return contextLength > 0 ? contextLength : Math.min(maxPositionEmbeddings, DEFAULT_MAX_CONTEXT);
    }

    /** Builds {@link ModelOptions}; every setter validates when {@link #build()} is called. */
    public static final class Builder {
        private int threads;
        private int contextLength;
        private DType kvCacheType = DType.F32;
        private int vectorBits = VectorBits.DEFAULT;
        private Quantization quantize;
        private Device device = Device.CPU;
        private int gpuLayers = -1;

        private Builder() {
        }

        /** Worker threads; {@code 0} = physical cores. */
        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        /** Positions per session; {@code 0} = min(max_position_embeddings, 32768). */
        public Builder contextLength(int contextLength) {
            this.contextLength = contextLength;
            return this;
        }

        /** F32 (the default, exact), BF16 or I8. */
        public Builder kvCacheType(DType kvCacheType) {
            this.kvCacheType = kvCacheType;
            return this;
        }

        /** 128, 256 or 512 bits; {@code 0} = {@code -Dqwen2j.vector.bits}, else the platform's preferred width. */
        public Builder vectorBits(int vectorBits) {
            this.vectorBits = vectorBits;
            return this;
        }

        /** Quantize float linear maps to int8 at load ({@link Quantization#INT8}); null (the default) does not. */
        public Builder quantize(Quantization quantize) {
            this.quantize = quantize;
            return this;
        }

        /** {@link Device#CPU} (the default), {@code cuda}, {@code cuda:N} or {@link Device#AUTO}. */
        public Builder device(Device device) {
            this.device = device;
            return this;
        }

        /** As {@link #device(Device)}, parsed from {@code cpu}, {@code cuda}, {@code cuda:N} or {@code auto}. */
        public Builder device(String device) {
            return device(Device.parse(device));
        }

        /** The first layers to run on the CUDA device, the rest on the CPU; {@code -1} (the default) = all. */
        public Builder gpuLayers(int gpuLayers) {
            this.gpuLayers = gpuLayers;
            return this;
        }

        public ModelOptions build() {
            return new ModelOptions(threads, contextLength, kvCacheType, vectorBits, quantize, device, gpuLayers);
        }
    }
}
