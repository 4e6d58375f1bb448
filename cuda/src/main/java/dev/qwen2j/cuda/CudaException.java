package dev.qwen2j.cuda;

/** A CUDA driver or cuBLAS call that failed, with the error's name (e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}). */
public class CudaException extends RuntimeException {

    private final String errorName;

    public CudaException(String call, String errorName, int code) {
        super(call + " failed: " + errorName + " (" + code + ")");
        this.errorName = errorName;
    }

    protected CudaException(String message) {
        super(message);
        this.errorName = null;
    }

    /** The error's name, as {@code cuGetErrorName} or {@code cublasGetStatusName} gives it. */
    public String errorName() {
        return errorName;
    }
}
