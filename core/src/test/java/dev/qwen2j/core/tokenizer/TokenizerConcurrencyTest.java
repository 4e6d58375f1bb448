package dev.qwen2j.core.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** One Tokenizer shared by several threads gives each the ids it gives a single thread. */
class TokenizerConcurrencyTest {

    @Test
    void sharedTokenizerIsThreadSafe() throws Exception {
        Tokenizer tokenizer = TokenizerFixture.qwen2j();
        SplittableRandom random = new SplittableRandom(5);
        List<String> texts = new ArrayList<>(TokenizerCorpus.cases().values());
        for (int i = 0; i < 200; i++) {
            texts.add(TokenizerCorpus.randomText(random, 80));
        }
        // Expected ids from a tokenizer whose cache no other thread touches.
        Tokenizer fresh = Tokenizer.load(TokenizerFixture.folder());
        List<int[]> expected = texts.stream().map(fresh::encode).toList();
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int offset = t;
                futures.add(pool.submit(() -> {
                    for (int round = 0; round < 3; round++) {
                        for (int i = 0; i < texts.size(); i++) {
                            int k = (i * 7 + offset * 13 + round) % texts.size();
                            assertArrayEquals(expected.get(k), tokenizer.encode(texts.get(k)));
                        }
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        }
    }
}
