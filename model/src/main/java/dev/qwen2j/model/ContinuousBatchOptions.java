package dev.qwen2j.model;

/**
 * How a {@link ContinuousBatch} is sized and whether it caches prompt prefixes.
 *
 * @param maxSequences  sequences decoded at once at most
 * @param kvMemoryBytes bytes of the KV page pool, or 0 for {@link KvPoolPlan}'s default share of memory
 * @param prefixCache   keep the full KV pages of prompts after they finish and reuse them for a later prompt that
 *                      starts with the same tokens (see {@link ContinuousBatch})
 */
public record ContinuousBatchOptions(int maxSequences, long kvMemoryBytes, boolean prefixCache) {

    public ContinuousBatchOptions {
        if (maxSequences < 1) {
            throw new IllegalArgumentException("maxSequences must be >= 1, got " + maxSequences);
        }
        if (kvMemoryBytes < 0) {
            throw new IllegalArgumentException("kvMemoryBytes must be >= 0 (0 = sized to memory), got "
                    + kvMemoryBytes);
        }
    }

    /** {@code maxSequences} at once, the pool sized to memory, the prefix cache on. */
    public static ContinuousBatchOptions of(int maxSequences) {
        return new ContinuousBatchOptions(maxSequences, 0, true);
    }

    public ContinuousBatchOptions withKvMemoryBytes(long kvMemoryBytes) {
        return new ContinuousBatchOptions(maxSequences, kvMemoryBytes, prefixCache);
    }

    public ContinuousBatchOptions withPrefixCache(boolean prefixCache) {
        return new ContinuousBatchOptions(maxSequences, kvMemoryBytes, prefixCache);
    }
}
