package dev.qwen2j.model;

import dev.qwen2j.core.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Log-probabilities of one sequence's sampled tokens: {@link #capture} keeps the model's logits before the sampler
 * changes them in place (penalties, temperature, filters), {@link #of} gives the sampled token's log-softmax and the
 * top k. Two passes over the vocabulary per token, and only for a request that asks.
 */
final class LogprobsCollector {

    private final Tokenizer tokenizer;
    private final float[] logits;
    private final int[] topIds;
    private final float[] topLogits;

    LogprobsCollector(Tokenizer tokenizer, int vocab, int top) {
        this.tokenizer = tokenizer;
        this.logits = new float[vocab];
        this.topIds = new int[top];
        this.topLogits = new float[top];
    }

    void capture(float[] modelLogits) {
        System.arraycopy(modelLogits, 0, logits, 0, logits.length);
    }

    /** The log-probabilities at the captured position, {@code token} having been sampled there. */
    TokenLogprobs of(int token) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        int k = 0;
        for (int i = 0; i < logits.length; i++) {
            float l = logits[i];
            sum += Math.exp(l - max);
            if (k < topIds.length || (k > 0 && l > topLogits[k - 1])) {
                k = insert(i, l, k); // kept sorted, largest first; ties keep the lower id first
            }
        }
        float logSum = (float) (max + Math.log(sum));
        List<TokenLogprobs.Entry> top = new ArrayList<>(k);
        for (int j = 0; j < k; j++) {
            top.add(entry(topIds[j], topLogits[j] - logSum));
        }
        return new TokenLogprobs(entry(token, logits[token] - logSum), top);
    }

    private int insert(int id, float logit, int count) {
        int at = Math.min(count, topIds.length - 1);
        while (at > 0 && topLogits[at - 1] < logit) { // a full list drops its last
            topIds[at] = topIds[at - 1];
            topLogits[at] = topLogits[at - 1];
            at--;
        }
        topIds[at] = id;
        topLogits[at] = logit;
        return Math.min(count + 1, topIds.length);
    }

    private TokenLogprobs.Entry entry(int id, float logprob) {
        byte[] bytes = tokenizer.tokenBytes(id);
        return new TokenLogprobs.Entry(id, new String(bytes, StandardCharsets.UTF_8), bytes, logprob);
    }
}
