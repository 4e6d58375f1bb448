package dev.qwen2j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Off-heap memory that the caller fills completely before reading it, such as weights quantized at load.
 * {@link Arena#allocate} zeroes on the calling thread: for half a gigabyte of int8 weights that is ~0.4 s of page
 * faults and memset before the parallel quantizers start, each page then touched again by them. Here the pages come
 * from {@code aligned_alloc}, untouched, and are faulted in by the threads that write them. Freed when the segment
 * becomes unreachable. On Linux, blocks of 2 MiB and more are aligned to 2 MiB and advised as transparent huge pages
 * ({@code MADV_HUGEPAGE}; the common default is THP on madvise only): weights streamed through 4 KiB pages miss the
 * TLB every page. Where this module has no native access (a library user without
 * {@code --enable-native-access}), it falls back to {@link Arena#ofAuto()}, zeroed, with no warning.
 */
public final class NativeMemory {

    private static final long ALIGNMENT = 64;
    private static final long HUGE_PAGE = 2L << 20;
    private static final int MADV_HUGEPAGE = 14;
    private static final MethodHandle ALIGNED_ALLOC;
    private static final MethodHandle FREE;
    /** Linux's madvise, or null elsewhere. */
    private static final MethodHandle MADVISE;

    static {
        MethodHandle alloc = null;
        MethodHandle free = null;
        MethodHandle madvise = null;
        if (NativeMemory.class.getModule().isNativeAccessEnabled()) {
            try {
                Linker linker = Linker.nativeLinker();
                alloc = linker.downcallHandle(linker.defaultLookup().find("aligned_alloc").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
                free = linker.downcallHandle(linker.defaultLookup().find("free").orElseThrow(),
                        FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
                if (System.getProperty("os.name", "").startsWith("Linux")) {
                    madvise = linker.downcallHandle(linker.defaultLookup().find("madvise").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                                    ValueLayout.JAVA_INT));
                }
            } catch (RuntimeException e) {
                alloc = null; // no C library to link: zeroed Arena memory instead
            }
        }
        ALIGNED_ALLOC = alloc;
        FREE = free;
        MADVISE = alloc == null ? null : madvise;
    }

    private NativeMemory() {
    }

    /** {@code bytes} bytes, 64-byte aligned, of unspecified content. */
    public static MemorySegment uninitialized(long bytes) {
        return allocate(Arena.ofAuto(), bytes);
    }

    /**
     * {@code bytes} zeroed bytes, 64-byte aligned, freed when {@code arena} closes: memory read all over again, such as
     * the KV cache, on huge pages where the system grants them.
     */
    public static MemorySegment zeroed(Arena arena, long bytes) {
        if (MADVISE == null || bytes < HUGE_PAGE) { // no huge page to ask for: the arena's own zeroed memory
            return arena.allocate(bytes, ALIGNMENT);
        }
        return allocate(arena, bytes).fill((byte) 0);
    }

    private static MemorySegment allocate(Arena arena, long bytes) {
        if (ALIGNED_ALLOC == null || bytes == 0) {
            return arena.allocate(bytes, ALIGNMENT);
        }
        boolean huge = MADVISE != null && bytes >= HUGE_PAGE;
        long alignment = huge ? HUGE_PAGE : ALIGNMENT;
        long rounded = (bytes + alignment - 1) / alignment * alignment; // aligned_alloc wants a multiple
        MemorySegment raw;
        try {
            raw = (MemorySegment) ALIGNED_ALLOC.invokeExact(alignment, rounded);
        } catch (Throwable t) {
            throw new IllegalStateException("aligned_alloc failed", t);
        }
        if (raw.equals(MemorySegment.NULL)) {
            throw new OutOfMemoryError("cannot allocate " + bytes + " bytes of native memory");
        }
        if (huge) {
            try {
                int ignored = (int) MADVISE.invokeExact(raw, rounded, MADV_HUGEPAGE); // only advice: may fail, harmless
            } catch (Throwable t) {
                throw new IllegalStateException("madvise failed", t);
            }
        }
        return raw.reinterpret(bytes, arena, NativeMemory::free);
    }

    private static void free(MemorySegment segment) {
        try {
            FREE.invokeExact(segment);
        } catch (Throwable t) {
            throw new IllegalStateException("free failed", t);
        }
    }
}
