package dev.qwen2j.tensor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the kernels once per JVM: the Vector API ones when {@code jdk.incubator.vector} is in the boot layer,
 * otherwise the scalar ones with one warning. {@code VectorKernels} is only ever named by string here, so
 * no Vector API class is loaded when the module is absent.
 */
final class KernelChoice {

    private static final Logger LOG = LoggerFactory.getLogger(KernelChoice.class);
    private static final String VECTOR_MODULE = "jdk.incubator.vector";

    static final Kernels BEST = choose();

    private KernelChoice() {
    }

    private static Kernels choose() {
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
            LOG.warn("{} is not available (run java with --add-modules {}): using scalar kernels, several times slower",
                    VECTOR_MODULE, VECTOR_MODULE);
            return new ScalarKernels();
        }
        try {
            return (Kernels) Class.forName("dev.qwen2j.tensor.VectorKernels").getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            LOG.warn("Vector API kernels failed to load ({}): using scalar kernels, several times slower", e.toString());
            return new ScalarKernels();
        }
    }
}
