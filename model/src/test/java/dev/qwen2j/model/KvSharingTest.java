package dev.qwen2j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.CpuBackend;
import dev.qwen2j.tensor.KvCacheLayer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Samples of one prompt share its KV pages: the prompt is held once, each sample copies only its last, partial page
 * and takes pages as it grows. The bound of the issue: 8 samples of a 1,000-token prompt hold at most 1.3× what one
 * sample holds, plus the generated tokens' KV.
 */
class KvSharingTest {

    private static final int LAYERS = 2;
    private static final int KV_HEADS = 2;
    private static final int HEAD_DIM = 16;

    @TempDir
    static Path dir;
    static Model model;

    @BeforeAll
    static void load() throws Exception {
        Path folder = RandomQwen2Checkpoint.builder().hiddenSize(64).intermediateSize(128).layers(LAYERS).heads(4)
                .kvHeads(KV_HEADS).seed(11).maxPositionEmbeddings(2048).write(dir.resolve("model"));
        model = Model.load(folder, ModelOptions.builder().threads(2).contextLength(1100).build());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void eightSamplesOfAThousandTokenPromptHoldItOnce() {
        String prompt = "the" + " the".repeat(999);
        assertEquals(1000, model.tokenizer().encode(prompt).length);
        int generated = 40;
        GenerationOptions options = GenerationOptions.builder().chat(false).temperature(1.0).seed(5)
                .maxTokens(generated).stopTokenIds(Integer.MAX_VALUE).build();
        SelfConsistencyResult one = model.selfConsistency(prompt, options.toBuilder().samples(1).build());
        SelfConsistencyResult eight = model.selfConsistency(prompt, options.toBuilder().samples(8).build());
        long perPosition = (long) LAYERS * 2 * KV_HEADS * HEAD_DIM * DType.F32.byteSize();
        long generatedKv = 8L * generated * perPosition;
        System.out.printf("KV of 1 sample %d B, of 8 samples %d B (bound %.0f B)%n", one.kvCacheBytes(),
                eight.kvCacheBytes(), 1.3 * one.kvCacheBytes() + generatedKv);
        // One sample holds its 1,040 positions in whole pages, nothing more.
        assertEquals(KvCacheLayer.pagesFor(1000 + generated) * KvCacheLayer.PAGE * perPosition, one.kvCacheBytes());
        assertTrue(eight.kvCacheBytes() <= 1.3 * one.kvCacheBytes() + generatedKv,
                eight.kvCacheBytes() + " > 1.3 × " + one.kvCacheBytes() + " + " + generatedKv);
        // Sharing costs nothing in tokens: sample i is what its seed gives alone.
        for (int i = 0; i < 8; i += 7) {
            GenerationResult alone = model.generate(prompt, options.toBuilder().seed(5 + i).build(), t -> { });
            assertEquals(alone.text(), eight.samples().get(i).text(), "sample " + i);
        }
    }

    @Test
    void copyOnWriteLeavesTheSharedPageToTheOthers() {
        try (CpuBackend backend = CpuBackend.scalar(1);
             KvPagePool pool = new KvPagePool(LayerSplit.of(backend, 1), 1, 1, 16, DType.F32, 4)) {
            KvCache parent = pool.newCache(64);
            parent.reserve(0, 40); // two pages, the second partial
            assertEquals(2, pool.allocator().inUse());
            KvCache child = parent.fork(64);
            assertEquals(2, pool.allocator().inUse());
            child.reserve(40, 1); // writes into the shared partial page: a private copy
            assertEquals(3, pool.allocator().inUse());
            assertEquals(parent.layer(0).pageOf(0), child.layer(0).pageOf(0));
            assertTrue(parent.layer(0).pageOf(32) != child.layer(0).pageOf(32));
            parent.reserve(40, 1); // now the parent's page is its own again: written in place
            assertEquals(3, pool.allocator().inUse());
            child.close();
            parent.close();
            assertEquals(0, pool.allocator().inUse());
        }
    }
}
