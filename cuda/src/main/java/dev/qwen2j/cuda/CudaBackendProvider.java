package dev.qwen2j.cuda;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.Backend;
import dev.qwen2j.tensor.BackendProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --device cuda[:N]}: opens the device, then plans the model onto its free memory before anything is
 * uploaded, logging the plan; a plan that does not fit is an error saying what would.
 */
public final class CudaBackendProvider implements BackendProvider {

    private static final Logger LOG = LoggerFactory.getLogger(CudaBackendProvider.class);

    @Override
    public String kind() {
        return "cuda";
    }

    @Override
    public Backend open(Request request) {
        int headDim = request.config().headDim();
        if (headDim > Launch.MAX_HEAD_DIM || headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim " + headDim + ": the CUDA attention kernel takes an even "
                    + "head_dim up to " + Launch.MAX_HEAD_DIM);
        }
        CudaBackend backend = CudaBackend.open(request.index());
        try {
            MemoryPlanner.WeightFormat format = request.int8GroupSize() > 0
                    ? MemoryPlanner.WeightFormat.int8(request.int8GroupSize()) : MemoryPlanner.WeightFormat.BF16;
            MemoryPlan plan = MemoryPlanner.require(request.config(), format, request.deviceLayers(),
                    request.contextLength(), Math.max(1, request.kvCacheType().byteSize()), backend.freeBytes());
            LOG.info("{}: {}", backend.name(), plan.describe());
            return backend;
        } catch (RuntimeException | Error e) {
            backend.close();
            throw e;
        }
    }
}
