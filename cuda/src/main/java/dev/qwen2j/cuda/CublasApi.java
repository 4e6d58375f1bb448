package dev.qwen2j.cuda;

import java.lang.foreign.FunctionDescriptor;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The cuBLAS functions qwen2j binds ({@code cublasStatus_t} is an int; handles, streams and scalars are pointers).
 * The development machines have no cuBLAS headers, so these follow NVIDIA's documented signatures; they are
 * checked on a device machine.
 */
public final class CublasApi {

    private CublasApi() {
    }

    /** {@code cudaDataType} CUDA_R_32F and CUDA_R_16BF; {@code cublasComputeType_t} CUBLAS_COMPUTE_32F. */
    public static final int CUDA_R_32F = 0;
    public static final int CUDA_R_16BF = 14;
    public static final int CUBLAS_COMPUTE_32F = 68;
    public static final int CUBLAS_GEMM_DEFAULT = -1;
    public static final int CUBLAS_OP_N = 0;
    public static final int CUBLAS_OP_T = 1;

    public static final Binding CREATE = new Binding("cublasCreate", "cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    public static final Binding DESTROY = new Binding("cublasDestroy", "cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    public static final Binding SET_STREAM = new Binding("cublasSetStream", "cublasSetStream_v2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    /** handle, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta, C, Ctype, ldc, computeType, algo. */
    public static final Binding GEMM_EX = new Binding("cublasGemmEx", "cublasGemmEx", FunctionDescriptor.of(JAVA_INT,
            ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT,
            ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    public static final Binding GET_STATUS_NAME = new Binding("cublasGetStatusName", "cublasGetStatusName",
            FunctionDescriptor.of(ADDRESS, JAVA_INT));

    public static final List<Binding> ALL = List.of(CREATE, DESTROY, SET_STREAM, GEMM_EX, GET_STATUS_NAME);
}
