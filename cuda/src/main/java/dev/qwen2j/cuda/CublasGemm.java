package dev.qwen2j.cuda;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Prefill's linear maps through cuBLAS: {@code Y[tokens][out] = X[tokens][in] · Wᵀ}, the activations rounded to
 * bf16 and multiplied against the bf16 weights with F32 accumulation ({@code cublasGemmEx}, CUDA_R_16BF,
 * CUBLAS_COMPUTE_32F), then the bias added. Without cuBLAS ({@link CublasLocator}) it says so once, at the first
 * prefill, and the backend runs prefill on the decode kernels.
 */
final class CublasGemm implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CublasGemm.class);

    private final CudaBackend backend;
    private volatile State state; // null until first use: the library loads at the first prefill

    private record State(MethodHandle gemm, MethodHandle destroy, MethodHandle statusName, MemorySegment handle,
                         MemorySegment one, MemorySegment zero) {
    }

    private static final State NONE = new State(null, null, null, null, null, null);

    /** bf16 copies of the activations, grown to the largest block seen. */
    private long scratch;
    private long scratchElements;

    CublasGemm(CudaBackend backend) {
        this.backend = backend;
    }

    boolean available() {
        return state().gemm != null;
    }

    private State state() {
        State s = state;
        if (s == null) {
            synchronized (this) {
                if (state == null) {
                    state = load();
                }
                s = state;
            }
        }
        return s;
    }

    private State load() {
        Optional<Path> library = CublasLocator.locate();
        if (library.isEmpty()) {
            LOG.warn("no libcublas found (LD_LIBRARY_PATH, the CUDA toolkit, the nvidia-cublas wheel, -D{}): "
                    + "prefill runs on the decode kernels, slower", CublasLocator.PROPERTY);
            return NONE;
        }
        backend.context().makeCurrent();
        SymbolLookup lookup = SymbolLookup.libraryLookup(library.get(), Arena.global());
        Linker linker = Linker.nativeLinker();
        Map<String, MethodHandle> handles = new HashMap<>();
        for (Binding b : CublasApi.ALL) {
            MemorySegment symbol = lookup.find(b.exported()).orElseThrow(() -> new CudaUnavailableException(
                    library.get() + " exports no " + b.exported()));
            handles.put(b.exported(), linker.downcallHandle(symbol, b.descriptor()));
        }
        MemorySegment handleOut = Arena.global().allocate(ValueLayout.ADDRESS);
        int status = invoke(handles.get(CublasApi.CREATE.exported()), handleOut);
        if (status != 0) {
            throw new CudaException(CublasApi.CREATE.exported(), "cublasStatus " + status, status);
        }
        MemorySegment one = Arena.global().allocateFrom(ValueLayout.JAVA_FLOAT, 1f);
        MemorySegment zero = Arena.global().allocateFrom(ValueLayout.JAVA_FLOAT, 0f);
        LOG.info("cuBLAS: {}", library.get());
        return new State(handles.get(CublasApi.GEMM_EX.exported()), handles.get(CublasApi.DESTROY.exported()),
                handles.get(CublasApi.GET_STATUS_NAME.exported()), handleOut.get(ValueLayout.ADDRESS, 0), one, zero);
    }

    private static int invoke(MethodHandle handle, Object... args) {
        try {
            return (int) handle.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code y = x·Wᵀ + b} for {@code tokens} rows of bf16 {@code w}. */
    synchronized void multiply(CudaBackend.DeviceLinear w, CudaBackend.DeviceBuffer x, CudaBackend.DeviceBuffer y,
                               int tokens) {
        State s = state();
        CudaContext cuda = backend.context();
        long elements = (long) tokens * w.inFeatures();
        if (scratchElements < elements) {
            if (scratch != 0) {
                cuda.free(scratch);
            }
            scratchElements = Math.max(elements, 1 << 20);
            scratch = cuda.allocate(2 * scratchElements);
        }
        cuda.launch("to_bf16", Launch.elementwise((int) elements), cuda.args().pointer(x.pointer()).pointer(scratch)
                .i32((int) elements));
        Shape g = Shape.of(w.outFeatures(), w.inFeatures(), tokens);
        int status;
        try {
            status = (int) s.gemm.invokeExact(s.handle, g.transA(), g.transB(), g.m(), g.n(), g.k(), s.one,
                    MemorySegment.ofAddress(w.weights()), CublasApi.CUDA_R_16BF, g.lda(),
                    MemorySegment.ofAddress(scratch), CublasApi.CUDA_R_16BF, g.ldb(), s.zero,
                    MemorySegment.ofAddress(y.pointer()), CublasApi.CUDA_R_32F, g.ldc(),
                    CublasApi.CUBLAS_COMPUTE_32F, CublasApi.CUBLAS_GEMM_DEFAULT);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("cublasGemmEx", e);
        }
        if (status != 0) {
            throw new CudaException("cublasGemmEx", statusName(s, status), status);
        }
        if (w.bias() != 0) {
            int n = tokens * w.outFeatures();
            cuda.launch("add_bias", Launch.elementwise(n), cuda.args().pointer(y.pointer()).pointer(w.bias())
                    .i32(w.outFeatures()).i32(n));
        }
    }

    /**
     * cuBLAS's column-major arguments for row-major {@code Y[tokens][out] = X[tokens][in] · Wᵀ}, W row-major
     * {@code [out][in]}: W read column-major is Wᵀ ({@code [in][out]}, ld = in), so it is taken transposed; X read
     * column-major is {@code [in][tokens]} (ld = in); Y written column-major {@code [out][tokens]} (ld = out) is
     * row-major {@code [tokens][out]}.
     */
    record Shape(int transA, int transB, int m, int n, int k, int lda, int ldb, int ldc) {
        static Shape of(int out, int in, int tokens) {
            return new Shape(CublasApi.CUBLAS_OP_T, CublasApi.CUBLAS_OP_N, out, tokens, in, in, in, out);
        }
    }

    private static String statusName(State s, int status) {
        try {
            MemorySegment name = (MemorySegment) s.statusName.invokeExact(status);
            return name.reinterpret(128).getString(0);
        } catch (Throwable e) {
            return "cublasStatus " + status;
        }
    }

    @Override
    public synchronized void close() {
        State s = state;
        if (s != null && s.handle != null) {
            invoke(s.destroy, s.handle);
        }
    }
}
