package dev.qwen2j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
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

    @Test
    void registeredPagesWaitEvictableAndAreReclaimedLeastRecentlyReleasedFirst() {
        PageAllocator pool = new PageAllocator(3);
        List<Integer> evicted = new ArrayList<>();
        pool.evictor(evicted::add);
        int a = pool.allocate();
        int b = pool.allocate();
        pool.markCached(a);
        pool.markCached(b);
        pool.release(b);
        pool.release(a);
        assertEquals(0, pool.inUse());
        assertEquals(2, pool.evictable());
        assertEquals(3, pool.available());
        int c = pool.allocate(); // the free page first
        assertTrue(c != a && c != b);
        assertTrue(evicted.isEmpty());
        pool.retain(a); // a hit takes a up again: no longer evictable
        assertEquals(1, pool.evictable());
        int d = pool.allocate(); // no free page: b, the only evictable one, is reclaimed
        assertEquals(b, d);
        assertEquals(List.of(b), evicted);
        assertFalse(pool.cached(b));
        assertThrows(IllegalStateException.class, pool::allocate);
        pool.release(a);
        pool.uncache(a); // unregistered while evictable: free at once
        assertEquals(0, pool.evictable());
        assertEquals(1, pool.available());
        assertEquals(a, pool.allocate());
        assertEquals(List.of(b), evicted, "a free page is not an eviction");
    }

    @Test
    void reservedPagesAreKeptForTheirSequence() {
        PageAllocator pool = new PageAllocator(4);
        assertTrue(pool.reserve(3));
        assertFalse(pool.reserve(2), "3 of 4 are promised");
        PageReservation reservation = new PageReservation(pool, 3, 2);
        pool.allocate(); // the one unpromised page
        IllegalStateException full = assertThrows(IllegalStateException.class, pool::allocate);
        assertTrue(full.getMessage().contains("reserved (3)"), full.getMessage());
        reservation.allocate();
        assertEquals(2, pool.reserved());
        reservation.release();
        assertEquals(2, pool.reserved(), "one holder of the reservation is left");
        reservation.release();
        assertEquals(0, pool.reserved(), "the last holder gives back what was not taken");
        assertEquals(2, pool.available());
    }
}
