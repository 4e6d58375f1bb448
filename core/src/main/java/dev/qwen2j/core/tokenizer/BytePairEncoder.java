package dev.qwen2j.core.tokenizer;

import it.unimi.dsi.fastutil.longs.Long2LongOpenHashMap;

/**
 * Byte-level BPE over one pre-tokenized piece: start from one symbol per byte, then repeatedly merge
 * the adjacent pair with the lowest merge rank (leftmost first on ties), as Hugging Face's BPE does.
 *
 * <p>Symbols live in a linked list over flat arrays and candidate merges in a binary min-heap of
 * {@code rank << 32 | position}; a popped candidate is stale (skipped) when its left symbol was merged
 * away or its pair changed. Immutable after construction; the scratch arrays are per call.
 */
final class BytePairEncoder {

    private static final long NO_MERGE = -1L;

    /** (leftId << 32 | rightId) → (rank << 32 | mergedId). */
    private final Long2LongOpenHashMap merges;
    /** Token id of each byte's byte-level character. */
    private final int[] byteIds;

    BytePairEncoder(Long2LongOpenHashMap merges, int[] byteIds) {
        this.merges = merges;
        this.merges.defaultReturnValue(NO_MERGE);
        this.byteIds = byteIds;
    }

    int mergeCount() {
        return merges.size();
    }

    /** Scratch space for one thread. */
    static final class Workspace {
        int[] symbols = new int[64];
        int[] prev = new int[64];
        int[] next = new int[64];
        /** Pushes never exceed 3 per symbol: one initial pair, then at most two per merge. */
        long[] heap = new long[3 * 64];

        void ensure(int n) {
            if (symbols.length < n) {
                int size = Math.max(n, symbols.length * 2);
                symbols = new int[size];
                prev = new int[size];
                next = new int[size];
                heap = new long[3 * size];
            }
        }
    }

    /**
     * Encodes the bytes {@code utf8[0, length)} of one piece.
     *
     * @return the token ids, in order
     */
    int[] encode(byte[] utf8, int length, Workspace w) {
        if (length == 1) {
            return new int[] {byteIds[utf8[0] & 0xFF]};
        }
        w.ensure(length);
        int[] symbols = w.symbols, prev = w.prev, next = w.next;
        long[] heap = w.heap;
        for (int i = 0; i < length; i++) {
            symbols[i] = byteIds[utf8[i] & 0xFF];
            prev[i] = i - 1;
            next[i] = i + 1 < length ? i + 1 : -1;
        }
        int heapSize = 0;
        for (int i = 0; i + 1 < length; i++) {
            long merge = merges.get(pair(symbols[i], symbols[i + 1]));
            if (merge != NO_MERGE) {
                heapSize = push(heap, heapSize, (merge & 0xFFFF_FFFF_0000_0000L) | i);
            }
        }
        int alive = length;
        while (heapSize > 0) {
            long top = heap[0];
            heapSize = pop(heap, heapSize);
            int pos = (int) top;
            int right = next[pos];
            if (symbols[pos] < 0 || right < 0) {
                continue;
            }
            long merge = merges.get(pair(symbols[pos], symbols[right]));
            if (merge == NO_MERGE || (merge >>> 32) != (top >>> 32)) {
                continue; // stale: this pair changed since it was queued
            }
            symbols[pos] = (int) merge;
            symbols[right] = -1;
            int after = next[right];
            next[pos] = after;
            if (after >= 0) {
                prev[after] = pos;
            }
            alive--;
            int before = prev[pos];
            if (before >= 0) {
                long m = merges.get(pair(symbols[before], symbols[pos]));
                if (m != NO_MERGE) {
                    heapSize = push(heap, heapSize, (m & 0xFFFF_FFFF_0000_0000L) | before);
                }
            }
            if (after >= 0) {
                long m = merges.get(pair(symbols[pos], symbols[after]));
                if (m != NO_MERGE) {
                    heapSize = push(heap, heapSize, (m & 0xFFFF_FFFF_0000_0000L) | pos);
                }
            }
        }
        int[] ids = new int[alive];
        int k = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            ids[k++] = symbols[i];
        }
        return ids;
    }

    static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFF_FFFFL);
    }

    private static int push(long[] heap, int size, long value) {
        int i = size;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= value) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = value;
        return size + 1;
    }

    private static int pop(long[] heap, int size) {
        int last = size - 1;
        long value = heap[last];
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= last) {
                break;
            }
            if (child + 1 < last && heap[child + 1] < heap[child]) {
                child++;
            }
            if (heap[child] >= value) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = value;
        return last;
    }
}
