package dev.qwen2j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PageAllocatorTest {

    @Test
    void sharedPagesAreFreedByTheirLastHolder() {
        PageAllocator pool = new PageAllocator(3);
        int a = pool.allocate();
        int b = pool.allocate();
        assertEquals(2, pool.inUse());
        pool.retain(a);
        assertTrue(pool.shared(a));
        assertFalse(pool.shared(b));
        pool.release(a);
        assertFalse(pool.shared(a));
        assertEquals(2, pool.inUse());
        pool.release(a);
        pool.release(b);
        assertEquals(0, pool.inUse());
        assertEquals(2, pool.peakInUse());
    }

    @Test
    void exhaustionAndDoubleReleaseAreClearErrors() {
        PageAllocator pool = new PageAllocator(1);
        int a = pool.allocate();
        IllegalStateException full = assertThrows(IllegalStateException.class, pool::allocate);
        assertTrue(full.getMessage().contains("exhausted"), full.getMessage());
        pool.release(a);
        assertThrows(IllegalStateException.class, () -> pool.release(a));
        assertThrows(IllegalStateException.class, () -> pool.retain(a));
    }
}
