package dev.qwen2j.model;

import dev.qwen2j.tensor.RopeTable;

/**
 * The rows one forward pass computes: runs of consecutive rows, each run the next tokens of one sequence at its own
 * positions in its own cache. Prefill is one run of many rows; a decode step is one run of one row per sequence.
 * The token ids sit in the session's {@code tokens}, row by row. Reused from step to step; allocates nothing.
 */
final class Batch {

    final KvCache[] caches;
    final int[] positions;  // position of each run's first row
    final int[] firstRows;
    final int[] rowCounts;
    final int[] ropeLengths; // the length RoPE is computed for: the whole forward call the run belongs to
    final RopeTable[] ropes; // filled by the forward pass
    int runs;
    int rows;

    Batch(int maxRuns) {
        caches = new KvCache[maxRuns];
        positions = new int[maxRuns];
        firstRows = new int[maxRuns];
        rowCounts = new int[maxRuns];
        ropeLengths = new int[maxRuns];
        ropes = new RopeTable[maxRuns];
    }

    /** Runs this batch holds at most. */
    int capacity() {
        return caches.length;
    }

    void clear() {
        for (int r = 0; r < runs; r++) {
            caches[r] = null;
        }
        runs = 0;
        rows = 0;
    }

    /**
     * Appends a run of {@code count} rows for the sequence in {@code cache}, starting at {@code position}, whose
     * pages it makes writable.
     */
    void add(KvCache cache, int position, int count) {
        add(cache, position, count, position + count);
    }

    /**
     * {@link #add(KvCache, int, int)} for a run that is one block of a longer forward call (a prompt prefilled in
     * blocks) of {@code ropeLength} tokens in all: dynamic NTK RoPE takes its base from that length.
     */
    void add(KvCache cache, int position, int count, int ropeLength) {
        if (runs == caches.length) {
            throw new IllegalStateException("a batch of " + caches.length + " runs is full");
        }
        if (count < 1) {
            throw new IllegalArgumentException("a run needs at least one row");
        }
        cache.reserve(position, count);
        caches[runs] = cache;
        positions[runs] = position;
        firstRows[runs] = rows;
        rowCounts[runs] = count;
        ropeLengths[runs] = ropeLength;
        runs++;
        rows += count;
    }
}
