package dev.qwen2j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.KvCacheLayer;
import org.junit.jupiter.api.Test;

/** The KV pool planner, on Qwen2.5-0.5B's shape (24 layers, 2 KV heads of 64), without allocating anything. */
class KvPoolPlanTest {

    private static final long GIB = 1L << 30;
    private static final long PAGE_BYTES = KvPoolPlan.pageBytes(24, 2, 64, DType.F32);
    private static final int CONTEXT = 32768; // the model's max_position_embeddings, serve's default context
    private static final long WEIGHTS = 988L << 20; // bf16 weights, tied embeddings

    @Test
    void aPageOfTheHalfBillionModelHoldsItsKeysAndValues() {
        assertEquals(2L * 24 * 2 * 64 * KvCacheLayer.PAGE * Float.BYTES, PAGE_BYTES); // 768 KiB
        assertEquals(768L << 20, KvPoolPlan.pageBytes(24, 2, 64, DType.F32) * (CONTEXT / KvCacheLayer.PAGE));
    }

    /** What serve does by default (--max-batch 8, the whole context) starts within the machine's memory. */
    @Test
    void theDefaultServeConfigStartsWithinTheMemoryOfSmallMachines() {
        for (long physical : new long[] {4 * GIB, 8 * GIB, 16 * GIB, 24 * GIB}) {
            for (int maxBatch : new int[] {8, 32}) {
                long heap = physical / 4; // the JVM's default maximum heap
                KvPoolPlan plan = KvPoolPlan.of(PAGE_BYTES, CONTEXT, maxBatch, 0,
                        new KvPoolPlan.Memory(physical, heap, WEIGHTS));
                long used = plan.bytes() + heap + WEIGHTS;
                assertTrue(used <= physical, plan.describe() + ": " + used + " > " + physical);
                assertTrue(plan.bytes() <= (physical - heap - WEIGHTS) / 2, plan.describe());
                // Up front for every full context, this would not have fitted on the smaller of them.
                long upFront = (long) maxBatch * (768L << 20);
                if (physical <= 8 * GIB || maxBatch == 32) {
                    assertTrue(upFront + heap + WEIGHTS > physical, "the old plan fitted " + physical);
                }
                assertTrue(plan.pages() >= plan.pagesPerSequence() || physical < 8 * GIB, plan.describe());
            }
        }
        KvPoolPlan at24 = KvPoolPlan.of(PAGE_BYTES, CONTEXT, 32, 0, new KvPoolPlan.Memory(24 * GIB, 6 * GIB, WEIGHTS));
        // (24 - 6 - 0.96) GiB / 2 = 8.5 GiB: 11 full contexts of the 32 at once, any number of short ones.
        assertEquals(11, at24.fullContextSequences());
        assertTrue(at24.describe().contains("11 of 32 sequences"), at24.describe());
    }

    @Test
    void aBigMachineTakesNoMoreThanEveryFullContext() {
        KvPoolPlan plan = KvPoolPlan.of(PAGE_BYTES, CONTEXT, 8, 0, new KvPoolPlan.Memory(512 * GIB, 8 * GIB, WEIGHTS));
        assertEquals(8 * 1024, plan.pages());
        assertEquals(8, plan.fullContextSequences());
        assertEquals(6 * GIB, plan.bytes());
    }

    @Test
    void anExplicitSizeIsTakenAsGivenAndCheckedAgainstTheMachine() {
        KvPoolPlan.Memory memory = new KvPoolPlan.Memory(16 * GIB, 4 * GIB, WEIGHTS);
        KvPoolPlan plan = KvPoolPlan.of(PAGE_BYTES, CONTEXT, 8, 2 * GIB, memory);
        assertEquals(2 * GIB / PAGE_BYTES, plan.pages());
        assertEquals(2, plan.fullContextSequences());
        IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class,
                () -> KvPoolPlan.of(PAGE_BYTES, CONTEXT, 8, 32 * GIB, memory));
        assertTrue(tooBig.getMessage().contains("16.0 GiB of memory"), tooBig.getMessage());
        IllegalArgumentException tooSmall = assertThrows(IllegalArgumentException.class,
                () -> KvPoolPlan.of(PAGE_BYTES, CONTEXT, 8, PAGE_BYTES, memory));
        assertTrue(tooSmall.getMessage().contains("holds 1 pages"), tooSmall.getMessage());
        IllegalArgumentException noRoom = assertThrows(IllegalArgumentException.class,
                () -> KvPoolPlan.of(PAGE_BYTES, CONTEXT, 8, 0, new KvPoolPlan.Memory(GIB, GIB, WEIGHTS)));
        assertTrue(noRoom.getMessage().contains("no room for a KV pool"), noRoom.getMessage());
    }

    @Test
    void aRequestsWorstCaseCountsThePromptsFullPagesOnce() {
        // 200 prompt tokens: 6 full pages shared; each of 3 samples its own copy of the 7th and what 16 more add.
        assertEquals(6 + 3 * (KvCacheLayer.pagesFor(216) - 6), KvPoolPlan.pagesFor(200, 16, 3));
        assertEquals(KvCacheLayer.pagesFor(CONTEXT), KvPoolPlan.pagesFor(100, CONTEXT - 100, 1));
    }
}
