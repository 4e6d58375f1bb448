package dev.qwen2j.tensor;

import java.util.Arrays;

/**
 * Which physical page of a layer's pool holds each page of one sequence's positions: logical page {@code i}
 * (positions {@code [i·PAGE, (i+1)·PAGE)}) lives in physical page {@code page(i)}. One table serves every layer
 * of a sequence, since each layer's pool is indexed alike. Written by the sequence's own thread between forward
 * passes; read by the workers during one.
 */
public final class PageTable {

    private int[] pages;
    private int count;

    /** An empty table with room for {@code expectedPages} before it grows. */
    public PageTable(int expectedPages) {
        this.pages = new int[Math.max(1, expectedPages)];
    }

    /** The table {@code 0, 1, …, count-1}: a sequence that owns a whole pool. */
    public static PageTable identity(int count) {
        PageTable table = new PageTable(count);
        for (int i = 0; i < count; i++) {
            table.append(i);
        }
        return table;
    }

    /** The physical page of logical page {@code index}. */
    public int page(int index) {
        if (index < 0 || index >= count) {
            throw new IndexOutOfBoundsException("page " + index + " of a sequence with " + count + " pages");
        }
        return pages[index];
    }

    /** Logical pages mapped. */
    public int count() {
        return count;
    }

    /** Positions the mapped pages hold. */
    public int capacity() {
        return count * KvCacheLayer.PAGE;
    }

    /** Maps the next logical page to {@code physical}. */
    public void append(int physical) {
        if (count == pages.length) {
            pages = Arrays.copyOf(pages, 2 * pages.length);
        }
        pages[count++] = physical;
    }

    /** Maps logical page {@code index} to {@code physical} (copy on write of a shared page). */
    public void set(int index, int physical) {
        page(index);
        pages[index] = physical;
    }

    /** Keeps the first {@code newCount} pages. */
    public void truncate(int newCount) {
        if (newCount < 0 || newCount > count) {
            throw new IllegalArgumentException("cannot truncate " + count + " pages to " + newCount);
        }
        count = newCount;
    }
}
