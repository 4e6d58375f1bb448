package dev.qwen2j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.core.safetensors.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch gives each sequence what it gets whatever shares its steps: the same logit bits alone or beside others
 * (the one-token decode kernel sums in another order, so a batch session must not take it), and through
 * {@link Model#generateAll(List, int)} the same tokens for each request's own seed on any batch size or composition.
 */
class BatchInvarianceTest {

    private static final int LAYERS = 2;
    private static final int KV_HEADS = 2;
    private static final int HEAD_DIM = 32;

    @TempDir
    static Path dir;
    static Model model;

    @BeforeAll
    static void load() throws Exception {
        Path folder = RandomQwen2Checkpoint.builder().hiddenSize(128).intermediateSize(384).layers(LAYERS).heads(4)
                .kvHeads(KV_HEADS).seed(21).maxPositionEmbeddings(512).write(dir.resolve("model"));
        model = Model.load(folder, ModelOptions.builder().threads(2).contextLength(256).build());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void aSequenceHasTheSameLogitBitsAloneAndInTheMiddleOfABatch() {
        int[] prompt = {9707, 11, 1879, 0, 314};
        int[] others = {151644, 872, 198};
        int[] fed = {17, 3000, 42, 151643, 7};
        int vocab = model.config().vocabSize();
        List<float[]> alone = new ArrayList<>();
        List<float[]> beside = new ArrayList<>();
        try (KvPagePool pool = new KvPagePool(model.qwen2().split(), LAYERS, KV_HEADS, HEAD_DIM, DType.F32, 12);
             Session one = model.qwen2().newBatchSession(1, prompt.length);
             Session three = model.qwen2().newBatchSession(3, prompt.length)) {
            KvCache a = pool.newCache(64);
            prefill(one, a, prompt);
            for (int i = 0; i < fed.length; i++) {
                alone.add(step(one, new KvCache[] {a}, new int[] {prompt.length + i}, new int[] {fed[i]}, 0, vocab));
            }
            KvCache before = pool.newCache(64);
            KvCache middle = pool.newCache(64);
            KvCache after = pool.newCache(64);
            prefill(three, before, others);
            prefill(three, middle, prompt);
            prefill(three, after, others);
            for (int i = 0; i < fed.length; i++) {
                int[] positions = {others.length + i, prompt.length + i, others.length + i};
                beside.add(step(three, new KvCache[] {before, middle, after}, positions,
                        new int[] {fed[(i + 2) % fed.length], fed[i], fed[(i + 1) % fed.length]}, 1, vocab));
            }
        }
        for (int i = 0; i < fed.length; i++) {
            assertArrayEquals(alone.get(i), beside.get(i), "step " + i); // exact: Float.floatToIntBits equality
        }
    }

    private static void prefill(Session s, KvCache cache, int[] prompt) {
        System.arraycopy(prompt, 0, s.tokens, 0, prompt.length);
        Batch b = new Batch(1);
        b.add(cache, 0, prompt.length);
        s.forward(b);
    }

    /** One decode step of one token per cache; the logits of run {@code run}. */
    private static float[] step(Session s, KvCache[] caches, int[] positions, int[] tokens, int run, int vocab) {
        Batch b = new Batch(caches.length);
        for (int i = 0; i < caches.length; i++) {
            s.tokens[i] = tokens[i];
            b.add(caches[i], positions[i], 1);
        }
        s.forward(b);
        return Arrays.copyOfRange(s.logits, run * vocab, (run + 1) * vocab);
    }

    private static List<BatchRequest> requests() {
        List<BatchRequest> requests = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            GenerationOptions options = GenerationOptions.builder().chat(false).temperature(1.0).seed(100 + 7L * i)
                    .maxTokens(8 + 5 * i).stopTokenIds(Integer.MAX_VALUE).build();
            requests.add(i % 3 == 2
                    ? BatchRequest.chat(List.of(Message.user("request " + i)), options.toBuilder().chat(true).build())
                    : BatchRequest.of("the quick brown fox " + i, options));
        }
        return requests;
    }

    @Test
    void eachRequestGetsItsOwnSeedsTokensOnAnyBatchSizeAndComposition() {
        List<BatchRequest> requests = requests();
        List<String> together = texts(model.generateAll(requests, requests.size()));
        assertEquals(together, texts(model.generateAll(requests, 2)), "two at a time, the rest joining as they finish");
        assertEquals(together, texts(model.generateAll(requests, 1)), "one at a time");
        List<BatchRequest> reordered = List.of(requests.get(4), requests.get(1), requests.get(5));
        assertEquals(List.of(together.get(4), together.get(1), together.get(5)), texts(model.generateAll(reordered, 3)));
        // each request's own seed: the same request under another seed samples other tokens
        BatchRequest reseeded = BatchRequest.of("the quick brown fox 0",
                requests.getFirst().options().toBuilder().seed(99).build());
        assertEquals(false, together.getFirst().equals(texts(model.generateAll(List.of(reseeded), 1)).getFirst()));
        List<GenerationResult> results = model.generateAll(requests, 2);
        for (int i = 0; i < requests.size(); i++) {
            assertEquals(8 + 5 * i, results.get(i).generatedTokens(), "request " + i);
        }
    }

    @Test
    void badBatchesAreRefusedBeforeAnyWork() {
        List<BatchRequest> requests = requests();
        assertThrows(IllegalArgumentException.class, () -> model.generateAll(requests, 0));
        assertThrows(IllegalArgumentException.class, () -> new BatchRequest(null, null, GenerationOptions.defaults()));
        List<BatchRequest> tooLong = new ArrayList<>(requests);
        tooLong.add(BatchRequest.of("x", GenerationOptions.builder().chat(false).maxTokens(1000).build()));
        assertThrows(ContextLengthExceededException.class, () -> model.generateAll(tooLong, 2));
        List<BatchRequest> twoSamples = List.of(BatchRequest.of("x", GenerationOptions.builder().samples(2).build()));
        assertThrows(IllegalArgumentException.class, () -> model.generateAll(twoSamples, 2));
        assertEquals(List.of(), model.generateAll(List.of(), 4));
    }

    private static List<String> texts(List<GenerationResult> results) {
        return results.stream().map(GenerationResult::text).toList();
    }
}
