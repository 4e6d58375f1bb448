package dev.qwen2j.tensor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandles;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Picks the kernels: the Vector API ones at the requested width when {@code jdk.incubator.vector} is in the boot
 * layer, otherwise the scalar ones with one warning. Each width's kernels are built once per JVM and shared.
 * {@code VectorKernels} and {@link SpeciesCopies} are only reached after the module was found, so no Vector API
 * class is loaded when it is absent.
 */
final class KernelChoice {

    private static final Logger LOG = LoggerFactory.getLogger(KernelChoice.class);
    private static final String VECTOR_MODULE = "jdk.incubator.vector";
    private static final boolean VECTOR_API = ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
    private static final Map<Integer, Kernels> BY_BITS = new ConcurrentHashMap<>();
    private static final Kernels SCALAR = new ScalarKernels();
    private static final AtomicBoolean WARNED_SCALAR = new AtomicBoolean();

    private KernelChoice() {
    }

    /**
     * The kernels for {@code bits} ({@link VectorBits#DEFAULT}: the width {@code -Dqwen2j.vector.bits} forces, else
     * the preferred one, else scalar without the Vector API). A forced width without the Vector API is an error.
     */
    static Kernels forBits(int bits) {
        int requested = VectorBits.check(bits, "vectorBits");
        if (requested == VectorBits.DEFAULT) {
            requested = VectorBits.requested();
        }
        if (!VECTOR_API) {
            if (requested != VectorBits.DEFAULT) {
                throw new IllegalStateException(requested + "-bit vector kernels need the Vector API: run java with --add-modules "
                        + VECTOR_MODULE);
            }
            if (!WARNED_SCALAR.getAndSet(true)) {
                LOG.warn("{} is not available (run java with --add-modules {}): using scalar kernels, several times slower",
                        VECTOR_MODULE, VECTOR_MODULE);
            }
            return SCALAR;
        }
        return BY_BITS.computeIfAbsent(requested, KernelChoice::vectorKernels);
    }

    private static Kernels vectorKernels(int bits) {
        int preferred = SpeciesCopies.preferredBits();
        int width = bits == VectorBits.DEFAULT ? preferred : bits;
        if (width > preferred) {
            LOG.warn("{}-bit vectors are wider than this CPU's {} bits: the kernels run emulated, many times slower",
                    width, preferred);
        }
        return SpeciesCopies.newInstance(MethodHandles.lookup(), VectorKernels.class, Kernels.class, width);
    }
}
