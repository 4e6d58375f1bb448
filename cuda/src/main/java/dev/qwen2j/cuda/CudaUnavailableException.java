package dev.qwen2j.cuda;

/** No usable CUDA: no driver library, no device, or a driver too old for the shipped PTX. The message says which. */
public final class CudaUnavailableException extends CudaException {

    public CudaUnavailableException(String message) {
        super(message);
    }
}
