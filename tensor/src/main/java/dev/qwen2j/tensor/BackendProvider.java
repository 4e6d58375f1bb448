package dev.qwen2j.tensor;

import dev.qwen2j.core.config.Qwen2Config;
import dev.qwen2j.core.safetensors.DType;

import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Opens a backend for an accelerator that a module below {@code model} provides (module {@code cuda}), found through
 * {@link ServiceLoader} so that {@code model} need not depend on it. The CPU needs none: it is always there.
 */
public interface BackendProvider {

    /** The device kind this provider opens, as {@code --device} names it: {@code cuda}. */
    String kind();

    /**
     * What the model asks of the device before any weight is uploaded, so that the provider can plan its memory and
     * refuse, with a message saying what would fit, a plan that does not.
     *
     * @param index         the device ({@code cuda:N})
     * @param config        the model
     * @param deviceLayers  the layers to place on the device (the rest run on the CPU)
     * @param contextLength positions each session's KV cache holds
     * @param kvCacheType   the KV cache's element type
     * @param int8GroupSize the int8 weights' group size, or 0 for float weights
     */
    record Request(int index, Qwen2Config config, int deviceLayers, int contextLength, DType kvCacheType,
                   int int8GroupSize) {
    }

    /**
     * The backend for {@code request}, or an exception saying what is missing (no driver, no device, too old a
     * driver) or what does not fit.
     */
    Backend open(Request request);

    /** The provider of {@code kind} on the class path, if any. */
    static Optional<BackendProvider> find(String kind) {
        for (BackendProvider provider : ServiceLoader.load(BackendProvider.class)) {
            if (provider.kind().equals(kind)) {
                return Optional.of(provider);
            }
        }
        return Optional.empty();
    }
}
