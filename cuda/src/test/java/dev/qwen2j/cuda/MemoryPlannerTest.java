package dev.qwen2j.cuda;

import dev.qwen2j.core.config.Qwen2Config;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryPlannerTest {

    static final long GIB = 1L << 30;

    static Qwen2Config shape(int hidden, int inter, int layers, int heads, int kv, int vocab, boolean tied) {
        return new Qwen2Config(hidden, inter, layers, heads, kv, hidden / heads, 1e-6, 1e6, null, 32768, false, 0, 0,
                tied, vocab, null, new int[]{151645}, "bfloat16");
    }

    static final Qwen2Config QWEN25_05B = shape(896, 4864, 24, 14, 2, 151936, true);
    static final Qwen2Config QWEN25_32B = shape(5120, 27648, 64, 40, 8, 152064, false);

    @Test
    void weightsMatchTheParameterCounts() {
        // 0.5B: 494,032,768 parameters, bf16, tied: 988 MB of weights (norms and biases kept in F32 here).
        MemoryPlan small = MemoryPlanner.plan(QWEN25_05B, MemoryPlanner.WeightFormat.BF16, -1, 4096, 4, 80 * GIB);
        assertEquals(494_032_768 * 2.0, small.weightBytes(), 0.002 * 494_032_768 * 2);
        assertTrue(small.fits());
        // 32B: 32.76 billion parameters, bf16: 65.5 GB
        MemoryPlan big = MemoryPlanner.plan(QWEN25_32B, MemoryPlanner.WeightFormat.BF16, -1, 32768, 2, 80 * GIB);
        assertEquals(65.5e9, big.weightBytes(), 0.01 * 65.5e9);
        // KV: 2 x 64 layers x 8 heads x 128 x 32768 positions x 2 bytes = 8 GiB
        assertEquals(8 * GIB, big.kvCacheBytes());
        assertTrue(big.fits(), big.describe()); // 61.0 GiB + 8 GiB + workspace: an 80 GB H100 holds it
        assertFalse(MemoryPlanner.plan(QWEN25_32B, MemoryPlanner.WeightFormat.BF16, -1, 32768, 2, 64 * GIB).fits());
    }

    @Test
    void aPlanThatDoesNotFitSaysWhatWould() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MemoryPlanner.require(
                QWEN25_32B, MemoryPlanner.WeightFormat.BF16, -1, 32768, 2, 24 * GIB));
        assertTrue(e.getMessage().contains("does not fit") && e.getMessage().contains("--gpu-layers "), e.getMessage());
        int layers = Integer.parseInt(e.getMessage().replaceAll(".*--gpu-layers (\\d+).*", "$1"));
        assertTrue(MemoryPlanner.plan(QWEN25_32B, MemoryPlanner.WeightFormat.BF16, layers, 32768, 2, 24 * GIB).fits());
        assertFalse(MemoryPlanner.plan(QWEN25_32B, MemoryPlanner.WeightFormat.BF16, layers + 1, 32768, 2, 24 * GIB).fits());
        // int8 halves the weights: the 32B model fits an 80 GB device with its full context
        assertTrue(MemoryPlanner.require(QWEN25_32B, MemoryPlanner.WeightFormat.int8(32), -1, 32768, 2, 80 * GIB).fits());
        assertThrows(IllegalArgumentException.class, () -> MemoryPlanner.plan(QWEN25_05B, MemoryPlanner.WeightFormat.BF16,
                25, 128, 4, GIB));
    }

    @Test
    void aSplitKeepsTheVocabularyOnTheCpu() {
        MemoryPlan all = MemoryPlanner.plan(QWEN25_05B, MemoryPlanner.WeightFormat.BF16, 24, 1024, 4, GIB);
        MemoryPlan part = MemoryPlanner.plan(QWEN25_05B, MemoryPlanner.WeightFormat.BF16, 23, 1024, 4, GIB);
        long table = 2L * 151936 * 896;
        assertTrue(all.weightBytes() - part.weightBytes() > table, "the last layer brings the embedding along");
    }
}
