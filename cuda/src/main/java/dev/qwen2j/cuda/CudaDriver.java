package dev.qwen2j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code libcuda.so.1} through FFM: one downcall handle per {@link DriverApi} binding, every {@code CUresult}
 * checked and turned into a {@link CudaException} carrying the error's name. Opening it initialises the driver
 * and checks that it is new enough for the shipped PTX; without a driver or a device it throws
 * {@link CudaUnavailableException} saying what is missing, never crashing the JVM.
 */
public final class CudaDriver {

    /** The PTX is built by CUDA 13 (PTX ISA 9.0): drivers older than 13.0 cannot JIT it. */
    public static final int MIN_DRIVER_VERSION = 13000;
    static final String LIBRARY = "libcuda.so.1";

    private final Map<String, MethodHandle> handles = new HashMap<>();
    private final int version;
    private final int devices;

    private CudaDriver(SymbolLookup library) {
        Linker linker = Linker.nativeLinker();
        for (Binding b : DriverApi.ALL) {
            MemorySegment symbol = library.find(b.exported())
                    .orElseThrow(() -> new CudaUnavailableException(LIBRARY + " exports no " + b.exported()
                            + ": the driver is too old"));
            handles.put(b.exported(), linker.downcallHandle(symbol, b.descriptor()));
        }
        check(DriverApi.INIT, call(DriverApi.INIT, 0));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            check(DriverApi.DRIVER_GET_VERSION, call(DriverApi.DRIVER_GET_VERSION, out));
            version = out.get(ValueLayout.JAVA_INT, 0);
            check(DriverApi.DEVICE_GET_COUNT, call(DriverApi.DEVICE_GET_COUNT, out));
            devices = out.get(ValueLayout.JAVA_INT, 0);
        }
        if (version < MIN_DRIVER_VERSION) {
            throw new CudaUnavailableException("the NVIDIA driver supports CUDA " + versionText(version)
                    + "; qwen2j's kernels need " + versionText(MIN_DRIVER_VERSION) + " or newer");
        }
        if (devices == 0) {
            throw new CudaUnavailableException("the NVIDIA driver sees no CUDA device");
        }
    }

    /** Loads and initialises the driver, or says why there is none. */
    public static CudaDriver open() {
        SymbolLookup library;
        try {
            library = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new CudaUnavailableException("no " + LIBRARY + " (the NVIDIA driver is not installed, or not on "
                    + "the library path)");
        }
        try {
            return new CudaDriver(library);
        } catch (CudaException e) {
            if (e instanceof CudaUnavailableException) {
                throw e;
            }
            throw new CudaUnavailableException("the NVIDIA driver did not initialise: " + e.getMessage());
        }
    }

    /** The driver's CUDA version, e.g. 13000 for 13.0. */
    public int version() {
        return version;
    }

    /** CUDA devices the driver sees. */
    public int deviceCount() {
        return devices;
    }

    /** Calls a binding with the given arguments and returns its {@code CUresult}. */
    int call(Binding binding, Object... args) {
        try {
            return (int) handles.get(binding.exported()).invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(binding.exported(), e);
        }
    }

    /** The downcall handle of {@code binding}, for a hot call made with {@code invokeExact}. */
    MethodHandle handle(Binding binding) {
        return handles.get(binding.exported());
    }

    /** Throws a {@link CudaException} named by {@code cuGetErrorName} unless {@code result} is CUDA_SUCCESS. */
    void check(Binding binding, int result) {
        if (result != 0) {
            throw new CudaException(binding.exported(), errorName(result), result);
        }
    }

    private String errorName(int result) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(ValueLayout.ADDRESS);
            int status = (int) handles.get(DriverApi.GET_ERROR_NAME.exported()).invokeWithArguments(result, name);
            return status == 0 ? name.get(ValueLayout.ADDRESS, 0).reinterpret(256).getString(0) : "CUresult " + result;
        } catch (Throwable e) {
            return "CUresult " + result;
        }
    }

    static String versionText(int version) {
        return version / 1000 + "." + version % 1000 / 10;
    }
}
