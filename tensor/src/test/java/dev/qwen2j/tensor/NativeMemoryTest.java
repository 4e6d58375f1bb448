package dev.qwen2j.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class NativeMemoryTest {

    @Test
    void alignedWritableAndBounded() {
        for (long bytes : new long[]{1, 63, 64, 1000, 3 << 20}) {
            MemorySegment m = NativeMemory.uninitialized(bytes);
            assertEquals(bytes, m.byteSize());
            assertEquals(0, m.address() % 64, "64-byte aligned");
            m.fill((byte) 7);
            assertEquals(7, m.get(ValueLayout.JAVA_BYTE, bytes - 1));
            assertThrows(IndexOutOfBoundsException.class, () -> m.get(ValueLayout.JAVA_BYTE, bytes));
        }
    }

    @Test
    void zeroedMemoryLivesAsLongAsItsArena() {
        for (long bytes : new long[]{1, 1000, (2 << 20) + 5}) { // below and above the huge-page size
            MemorySegment m;
            try (Arena arena = Arena.ofConfined()) {
                m = NativeMemory.zeroed(arena, bytes);
                assertEquals(bytes, m.byteSize());
                assertEquals(0, m.address() % 64, "64-byte aligned");
                for (long i = 0; i < bytes; i += 4093) {
                    assertEquals(0, m.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
                }
                assertEquals(0, m.get(ValueLayout.JAVA_BYTE, bytes - 1));
                assertThrows(IndexOutOfBoundsException.class, () -> m.get(ValueLayout.JAVA_BYTE, bytes));
            }
            assertThrows(IllegalStateException.class, () -> m.get(ValueLayout.JAVA_BYTE, 0), "freed with the arena");
        }
    }

    @Test
    void zeroBytes() {
        assertEquals(0, NativeMemory.uninitialized(0).byteSize());
    }
}
