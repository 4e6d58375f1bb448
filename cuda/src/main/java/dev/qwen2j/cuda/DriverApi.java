package dev.qwen2j.cuda;

import java.lang.foreign.FunctionDescriptor;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The CUDA driver API functions of {@code libcuda.so.1} that qwen2j binds. Every one returns {@code CUresult}
 * (an int); {@code CUdeviceptr} and {@code size_t} are 64-bit, {@code CUdevice} and enums are ints, handles and
 * pointers are addresses. {@code DriverApiTest} checks each against the toolkit's {@code cuda.h}.
 */
public final class DriverApi {

    private DriverApi() {
    }

    private static Binding f(String declared, String exported, java.lang.foreign.MemoryLayout... args) {
        return new Binding(declared, exported, FunctionDescriptor.of(JAVA_INT, args));
    }

    public static final Binding INIT = f("cuInit", "cuInit", JAVA_INT);
    public static final Binding DRIVER_GET_VERSION = f("cuDriverGetVersion", "cuDriverGetVersion", ADDRESS);
    public static final Binding GET_ERROR_NAME = f("cuGetErrorName", "cuGetErrorName", JAVA_INT, ADDRESS);
    public static final Binding DEVICE_GET_COUNT = f("cuDeviceGetCount", "cuDeviceGetCount", ADDRESS);
    public static final Binding DEVICE_GET = f("cuDeviceGet", "cuDeviceGet", ADDRESS, JAVA_INT);
    public static final Binding DEVICE_GET_NAME = f("cuDeviceGetName", "cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
    public static final Binding DEVICE_TOTAL_MEM = f("cuDeviceTotalMem", "cuDeviceTotalMem_v2", ADDRESS, JAVA_INT);
    public static final Binding DEVICE_GET_ATTRIBUTE = f("cuDeviceGetAttribute", "cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
    public static final Binding PRIMARY_CTX_RETAIN = f("cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
    public static final Binding PRIMARY_CTX_RELEASE = f("cuDevicePrimaryCtxRelease", "cuDevicePrimaryCtxRelease_v2", JAVA_INT);
    public static final Binding CTX_SET_CURRENT = f("cuCtxSetCurrent", "cuCtxSetCurrent", ADDRESS);
    public static final Binding CTX_SYNCHRONIZE = f("cuCtxSynchronize", "cuCtxSynchronize");
    public static final Binding MEM_GET_INFO = f("cuMemGetInfo", "cuMemGetInfo_v2", ADDRESS, ADDRESS);
    public static final Binding MEM_ALLOC = f("cuMemAlloc", "cuMemAlloc_v2", ADDRESS, JAVA_LONG);
    public static final Binding MEM_FREE = f("cuMemFree", "cuMemFree_v2", JAVA_LONG);
    public static final Binding MEMCPY_HTOD = f("cuMemcpyHtoD", "cuMemcpyHtoD_v2", JAVA_LONG, ADDRESS, JAVA_LONG);
    public static final Binding MEMCPY_DTOH = f("cuMemcpyDtoH", "cuMemcpyDtoH_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
    public static final Binding MEMCPY_DTOD = f("cuMemcpyDtoD", "cuMemcpyDtoD_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG);
    public static final Binding MEMCPY_HTOD_ASYNC = f("cuMemcpyHtoDAsync", "cuMemcpyHtoDAsync_v2", JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS);
    public static final Binding MEMCPY_DTOH_ASYNC = f("cuMemcpyDtoHAsync", "cuMemcpyDtoHAsync_v2", ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
    public static final Binding MEMSET_D32 = f("cuMemsetD32", "cuMemsetD32_v2", JAVA_LONG, JAVA_INT, JAVA_LONG);
    public static final Binding STREAM_CREATE = f("cuStreamCreate", "cuStreamCreate", ADDRESS, JAVA_INT);
    public static final Binding STREAM_SYNCHRONIZE = f("cuStreamSynchronize", "cuStreamSynchronize", ADDRESS);
    public static final Binding STREAM_DESTROY = f("cuStreamDestroy", "cuStreamDestroy_v2", ADDRESS);
    public static final Binding MODULE_LOAD_DATA = f("cuModuleLoadData", "cuModuleLoadData", ADDRESS, ADDRESS);
    public static final Binding MODULE_GET_FUNCTION = f("cuModuleGetFunction", "cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS);
    public static final Binding MODULE_UNLOAD = f("cuModuleUnload", "cuModuleUnload", ADDRESS);
    public static final Binding LAUNCH_KERNEL = f("cuLaunchKernel", "cuLaunchKernel", ADDRESS,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);

    /** Every binding above, in declaration order. */
    public static final List<Binding> ALL = List.of(INIT, DRIVER_GET_VERSION, GET_ERROR_NAME, DEVICE_GET_COUNT, DEVICE_GET,
            DEVICE_GET_NAME, DEVICE_TOTAL_MEM, DEVICE_GET_ATTRIBUTE, PRIMARY_CTX_RETAIN, PRIMARY_CTX_RELEASE,
            CTX_SET_CURRENT, CTX_SYNCHRONIZE, MEM_GET_INFO, MEM_ALLOC, MEM_FREE, MEMCPY_HTOD, MEMCPY_DTOH, MEMCPY_DTOD,
            MEMCPY_HTOD_ASYNC, MEMCPY_DTOH_ASYNC, MEMSET_D32, STREAM_CREATE, STREAM_SYNCHRONIZE, STREAM_DESTROY,
            MODULE_LOAD_DATA, MODULE_GET_FUNCTION, MODULE_UNLOAD, LAUNCH_KERNEL);
}
