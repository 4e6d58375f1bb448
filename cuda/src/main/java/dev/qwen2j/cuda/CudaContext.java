package dev.qwen2j.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One device's primary context with qwen2j's kernels loaded: device memory, copies and kernel launches, all on the
 * legacy default stream, so that every operation runs in the order it was issued and a synchronous copy to the
 * host sees the results of every kernel before it. Any thread may call it: each makes the context current on
 * first use.
 */
final class CudaContext implements AutoCloseable {

    /** The kernels' PTX, built from {@code src/main/cuda} by {@code scripts/build-ptx.sh}. */
    static final String PTX_RESOURCE = "qwen2j.ptx";
    /** Most kernel parameters one launch passes (attention has the most). */
    private static final int MAX_PARAMS = 24;

    private final CudaDriver driver;
    private final int device;
    private final MemorySegment context;
    private final MemorySegment module;
    private final Map<String, MemorySegment> functions = new HashMap<>();
    private final Set<Long> allocations = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);
    private final ThreadLocal<LaunchArgs> args = ThreadLocal.withInitial(LaunchArgs::new);
    private final String name;
    private final MethodHandle launch;
    private final MethodHandle hostToDevice;   // per-token copies: exact calls, no boxing
    private final MethodHandle deviceToHost;
    private final MethodHandle deviceToDevice;
    private volatile boolean closed;

    private CudaContext(CudaDriver driver, int index) {
        this.driver = driver;
        if (index >= driver.deviceCount()) {
            throw new CudaUnavailableException("cuda:" + index + ": the driver sees " + driver.deviceCount()
                    + " CUDA device(s), cuda:0 .. cuda:" + (driver.deviceCount() - 1));
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            driver.check(DriverApi.DEVICE_GET, driver.call(DriverApi.DEVICE_GET, out, index));
            this.device = out.get(ValueLayout.JAVA_INT, 0);
            MemorySegment nameBytes = arena.allocate(256);
            driver.check(DriverApi.DEVICE_GET_NAME, driver.call(DriverApi.DEVICE_GET_NAME, nameBytes, 256, device));
            this.name = nameBytes.getString(0);
            MemorySegment ctx = arena.allocate(ValueLayout.ADDRESS);
            driver.check(DriverApi.PRIMARY_CTX_RETAIN, driver.call(DriverApi.PRIMARY_CTX_RETAIN, ctx, device));
            this.context = ctx.get(ValueLayout.ADDRESS, 0);
            makeCurrent();
            MemorySegment ptx = arena.allocateFrom(readPtx());
            MemorySegment mod = arena.allocate(ValueLayout.ADDRESS);
            driver.check(DriverApi.MODULE_LOAD_DATA, driver.call(DriverApi.MODULE_LOAD_DATA, mod, ptx));
            this.module = mod.get(ValueLayout.ADDRESS, 0);
            for (String kernel : Launch.KERNELS) {
                MemorySegment f = arena.allocate(ValueLayout.ADDRESS);
                driver.check(DriverApi.MODULE_GET_FUNCTION,
                        driver.call(DriverApi.MODULE_GET_FUNCTION, f, module, arena.allocateFrom(kernel)));
                functions.put(kernel, f.get(ValueLayout.ADDRESS, 0));
            }
        }
        this.launch = driver.handle(DriverApi.LAUNCH_KERNEL);
        this.hostToDevice = driver.handle(DriverApi.MEMCPY_HTOD);
        this.deviceToHost = driver.handle(DriverApi.MEMCPY_DTOH);
        this.deviceToDevice = driver.handle(DriverApi.MEMCPY_DTOD);
    }

    /** Opens device {@code index}, or says why it cannot ({@link CudaUnavailableException}). */
    static CudaContext open(int index) {
        return new CudaContext(CudaDriver.open(), index);
    }

    private static String readPtx() {
        try (InputStream in = CudaContext.class.getResourceAsStream(PTX_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the qwen2j-cuda jar lacks " + PTX_RESOURCE);
            }
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(PTX_RESOURCE, e);
        }
    }

    String deviceName() {
        return name;
    }

    /** Free and total device memory, in bytes. */
    long[] memory() {
        makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            driver.check(DriverApi.MEM_GET_INFO, driver.call(DriverApi.MEM_GET_INFO, free, total));
            return new long[] {free.get(ValueLayout.JAVA_LONG, 0), total.get(ValueLayout.JAVA_LONG, 0)};
        }
    }

    void makeCurrent() {
        if (closed) {
            throw new IllegalStateException("the CUDA backend is closed");
        }
        if (!current.get()) {
            driver.check(DriverApi.CTX_SET_CURRENT, driver.call(DriverApi.CTX_SET_CURRENT, context));
            current.set(true);
        }
    }

    /** {@code bytes} of zeroed device memory, freed by {@link #free} or when the context closes. */
    long allocate(long bytes) {
        makeCurrent();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_LONG);
            driver.check(DriverApi.MEM_ALLOC, driver.call(DriverApi.MEM_ALLOC, out, Math.max(bytes, 4)));
            long pointer = out.get(ValueLayout.JAVA_LONG, 0);
            allocations.add(pointer);
            driver.check(DriverApi.MEMSET_D32, driver.call(DriverApi.MEMSET_D32, pointer, 0, (Math.max(bytes, 4) + 3) / 4));
            return pointer;
        }
    }

    void free(long pointer) {
        if (allocations.remove(pointer) && !closed) {
            makeCurrent();
            driver.check(DriverApi.MEM_FREE, driver.call(DriverApi.MEM_FREE, pointer));
        }
    }

    /** Host memory to the device; a heap segment goes through native memory, which the driver needs. */
    void upload(MemorySegment host, long device, long bytes) {
        makeCurrent();
        if (!host.isNative()) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment copy = arena.allocate(bytes, 64);
                MemorySegment.copy(host, 0, copy, 0, bytes);
                hostToDevice(copy, device, bytes);
            }
            return;
        }
        hostToDevice(host, device, bytes);
    }

    private void hostToDevice(MemorySegment host, long device, long bytes) {
        int result;
        try {
            result = (int) hostToDevice.invokeExact(device, host, bytes);
        } catch (Throwable e) {
            throw rethrow(DriverApi.MEMCPY_HTOD, e);
        }
        driver.check(DriverApi.MEMCPY_HTOD, result);
    }

    private static RuntimeException rethrow(Binding binding, Throwable e) {
        if (e instanceof RuntimeException r) {
            return r;
        }
        if (e instanceof Error error) {
            throw error;
        }
        return new IllegalStateException(binding.exported(), e);
    }

    /** Device memory to host native memory, after every kernel issued before it. */
    void download(long device, MemorySegment host, long bytes) {
        makeCurrent();
        int result;
        try {
            result = (int) deviceToHost.invokeExact(host, device, bytes);
        } catch (Throwable e) {
            throw rethrow(DriverApi.MEMCPY_DTOH, e);
        }
        driver.check(DriverApi.MEMCPY_DTOH, result);
    }

    void copy(long from, long to, long bytes) {
        makeCurrent();
        int result;
        try {
            result = (int) deviceToDevice.invokeExact(to, from, bytes);
        } catch (Throwable e) {
            throw rethrow(DriverApi.MEMCPY_DTOD, e);
        }
        driver.check(DriverApi.MEMCPY_DTOD, result);
    }

    /** This thread's argument block for the next {@link #launch}; fill it in the kernel's parameter order. */
    LaunchArgs args() {
        return args.get().clear();
    }

    /** Launches {@code kernel} with the arguments just given to {@link #args()}, on the default stream. */
    void launch(String kernel, Launch geometry, LaunchArgs a) {
        makeCurrent();
        MemorySegment f = functions.get(kernel);
        if (f == null) {
            throw new IllegalArgumentException("no kernel " + kernel + " in " + PTX_RESOURCE);
        }
        int result;
        try {
            result = (int) launch.invokeExact(f, geometry.gridX(), geometry.gridY(), 1, geometry.blockX(), 1, 1,
                    geometry.sharedBytes(), MemorySegment.NULL, a.pointers, MemorySegment.NULL);
        } catch (Throwable e) {
            throw rethrow(DriverApi.LAUNCH_KERNEL, e);
        }
        driver.check(DriverApi.LAUNCH_KERNEL, result);
    }

    /** Waits for every kernel and copy issued so far; a kernel's failure surfaces here. */
    void synchronize() {
        makeCurrent();
        driver.check(DriverApi.CTX_SYNCHRONIZE, driver.call(DriverApi.CTX_SYNCHRONIZE));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        makeCurrent();
        for (long pointer : allocations) {
            driver.call(DriverApi.MEM_FREE, pointer);
        }
        allocations.clear();
        driver.call(DriverApi.MODULE_UNLOAD, module);
        driver.call(DriverApi.PRIMARY_CTX_RELEASE, device);
        closed = true;
    }

    /**
     * A kernel's parameters as {@code cuLaunchKernel} takes them: an array of pointers, each to one value. One block
     * per thread, reused for every launch, so a launch allocates nothing.
     */
    static final class LaunchArgs {
        private final MemorySegment values = Arena.global().allocate(8L * MAX_PARAMS, 8);
        final MemorySegment pointers = Arena.global().allocate(8L * MAX_PARAMS, 8);
        private int count;

        LaunchArgs() {
            for (int i = 0; i < MAX_PARAMS; i++) {
                pointers.setAtIndex(ValueLayout.ADDRESS, i, values.asSlice(8L * i, 8));
            }
        }

        LaunchArgs clear() {
            count = 0;
            return this;
        }

        private long slot() {
            if (count == MAX_PARAMS) {
                throw new IllegalStateException("more than " + MAX_PARAMS + " kernel parameters");
            }
            return 8L * count++;
        }

        /** A device pointer ({@code 0} for a null one, such as no bias). */
        LaunchArgs pointer(long device) {
            values.set(ValueLayout.JAVA_LONG, slot(), device);
            return this;
        }

        LaunchArgs i32(int value) {
            values.set(ValueLayout.JAVA_INT, slot(), value);
            return this;
        }

        LaunchArgs f32(float value) {
            values.set(ValueLayout.JAVA_FLOAT, slot(), value);
            return this;
        }
    }
}
