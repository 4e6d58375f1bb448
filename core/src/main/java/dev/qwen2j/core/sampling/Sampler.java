package dev.qwen2j.core.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Chooses the next token from a row of logits, in the order transformers and vLLM apply the steps:
 * repetition penalty, frequency and presence penalties, then (unless greedy) temperature, top-k, top-p,
 * min-p, and a draw from what remains.
 *
 * <p>One sampler per generation: it owns the random stream (same seed, same logits → same tokens) and
 * scratch arrays sized once for the vocabulary, so {@link #sample} allocates nothing. Not thread-safe.
 */
public final class Sampler {

    private final SamplingParams params;
    private final int vocabSize;
    private final SplittableRandom random;

    /** {@code seenStamp[t] == stamp} marks token t as already penalized in the current call. */
    private final int[] seenStamp;
    private int stamp;
    /** Occurrences of each token among the generated ones; zeroed again before {@link #sample} returns. */
    private final int[] generatedCounts;
    /** Unnormalized probabilities {@code exp(logit - max)}; 0 marks a filtered-out token. */
    private final float[] weights;
    /** Min-heap of the k largest logits seen so far (top-k only). */
    private final float[] topKHeap;
    /** Top-p candidates, each packed as (weight bits, inverted index) so sorting longs sorts by weight. */
    private final long[] candidates;

    /**
     * @param vocabSize the number of logits per row (the model's lm_head rows, which may exceed the
     *                  tokenizer's vocabulary)
     */
    public Sampler(SamplingParams params, long seed, int vocabSize) {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabSize must be > 0, got " + vocabSize);
        }
        this.params = params;
        this.vocabSize = vocabSize;
        this.random = new SplittableRandom(seed);
        boolean penalties = params.hasPenalties();
        this.seenStamp = penalties ? new int[vocabSize] : null;
        this.generatedCounts = penalties ? new int[vocabSize] : null;
        boolean sampling = !params.isGreedy();
        this.weights = sampling ? new float[vocabSize] : null;
        this.topKHeap = sampling && params.topK() > 0 && params.topK() < vocabSize ? new float[params.topK()] : null;
        this.candidates = sampling && params.topP() < 1f ? new long[vocabSize] : null;
    }

    public SamplingParams params() {
        return params;
    }

    /**
     * Same as {@link #sample(float[], int[], int, int)} with every previous token counted as generated for the
     * presence and frequency penalties.
     */
    public int sample(float[] logits, int[] previousTokens, int previousCount) {
        return sample(logits, previousTokens, previousCount, 0);
    }

    /**
     * Picks the next token.
     *
     * @param logits         the model's output for the last position, at least {@code vocabSize} long; modified
     *                       in place (penalties, temperature, filters)
     * @param previousTokens the prompt followed by the tokens generated so far
     * @param previousCount  how many entries of {@code previousTokens} are valid
     * @param promptCount    how many of those are the prompt: the repetition penalty sees all tokens (as in
     *                       transformers), presence and frequency penalties only the generated ones (as in vLLM)
     * @return a token id in {@code [0, vocabSize)}
     * @throws IllegalStateException when the logits are NaN or all -infinity (a broken forward pass)
     */
    public int sample(float[] logits, int[] previousTokens, int previousCount, int promptCount) {
        if (logits.length < vocabSize) {
            throw new IllegalArgumentException("logits has " + logits.length + " entries, vocabSize is " + vocabSize);
        }
        if (previousCount < 0 || previousCount > previousTokens.length || promptCount < 0) {
            throw new IllegalArgumentException("previousCount " + previousCount + " / promptCount " + promptCount
                    + " invalid for " + previousTokens.length + " previous tokens");
        }
        if (params.hasPenalties()) {
            applyPenalties(logits, previousTokens, previousCount, Math.min(promptCount, previousCount));
        }
        return params.isGreedy() ? argmax(logits) : draw(logits);
    }

    private void applyPenalties(float[] logits, int[] tokens, int count, int promptCount) {
        float repetition = params.repetitionPenalty();
        if (repetition != 1f) {
            if (++stamp == 0) { // wrapped around: old marks could collide with the new stamp
                Arrays.fill(seenStamp, 0);
                stamp = 1;
            }
            for (int i = 0; i < count; i++) {
                int token = checkedToken(tokens[i]);
                if (seenStamp[token] != stamp) {
                    seenStamp[token] = stamp;
                    float logit = logits[token];
                    logits[token] = logit < 0f ? logit * repetition : logit / repetition;
                }
            }
        }
        float frequency = params.frequencyPenalty();
        float presence = params.presencePenalty();
        if (frequency != 0f || presence != 0f) {
            for (int i = promptCount; i < count; i++) {
                generatedCounts[checkedToken(tokens[i])]++;
            }
            for (int i = promptCount; i < count; i++) {
                int token = tokens[i];
                int occurrences = generatedCounts[token];
                if (occurrences > 0) {
                    logits[token] = logits[token] - frequency * occurrences - presence;
                    generatedCounts[token] = 0;
                }
            }
        }
    }

    private int checkedToken(int token) {
        if (token < 0 || token >= vocabSize) {
            throw new IllegalArgumentException("previous token id " + token + " outside [0, " + vocabSize + ")");
        }
        return token;
    }

    /** First index of the largest logit, as torch.argmax. */
    private int argmax(float[] logits) {
        int best = -1;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocabSize; i++) {
            if (logits[i] > bestValue) {
                bestValue = logits[i];
                best = i;
            }
        }
        if (best < 0) {
            throw new IllegalStateException("no finite logit to choose from (all NaN or -infinity)");
        }
        return best;
    }

    private int draw(float[] logits) {
        float temperature = params.temperature();
        if (temperature != 1f) {
            for (int i = 0; i < vocabSize; i++) {
                logits[i] = logits[i] / temperature;
            }
        }
        if (topKHeap != null) {
            float kth = kthLargest(logits);
            for (int i = 0; i < vocabSize; i++) {
                if (logits[i] < kth) {
                    logits[i] = Float.NEGATIVE_INFINITY;
                }
            }
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocabSize; i++) {
            max = Math.max(max, logits[i]);
        }
        if (!(max > Float.NEGATIVE_INFINITY) || Float.isInfinite(max)) {
            throw new IllegalStateException("logits are NaN, infinite or all -infinity (max " + max + ")");
        }
        double total = 0;
        for (int i = 0; i < vocabSize; i++) {
            float w = (float) Math.exp(logits[i] - max); // the most likely token gets exactly 1
            weights[i] = w;
            total += w;
        }
        if (candidates != null) {
            keepNucleus(total);
        }
        float minP = params.minP();
        if (minP > 0f) {
            // probability_i < minP * maxProbability  ⇔  weight_i < minP, because the top weight is 1
            for (int i = 0; i < vocabSize; i++) {
                if (weights[i] < minP) {
                    weights[i] = 0f;
                }
            }
        }
        double kept = 0;
        int last = -1;
        for (int i = 0; i < vocabSize; i++) {
            if (weights[i] > 0f) {
                kept += weights[i];
                last = i;
            }
        }
        double target = random.nextDouble() * kept;
        double cumulative = 0;
        for (int i = 0; i < vocabSize; i++) {
            cumulative += weights[i];
            if (cumulative > target && weights[i] > 0f) {
                return i;
            }
        }
        return last; // rounding left the target at the very end
    }

    /**
     * Zeroes every weight outside the smallest set of most likely tokens whose probability reaches top-p.
     * Only tokens with probability ≥ (1 − topP)/(vocab − 1) can be in that set (all smaller ones together weigh
     * less than 1 − topP and sit at the unlikely end), so only those, and the most likely token, are sorted.
     */
    private void keepNucleus(double total) {
        double topP = params.topP();
        double threshold = (1 - topP) / Math.max(1, vocabSize - 1) * total;
        int n = 0;
        for (int i = 0; i < vocabSize; i++) {
            float w = weights[i];
            if (w > 0f && (w >= threshold || w == 1f)) { // the top token always qualifies
                // Non-negative floats order like their bits; among equal weights the lower index sorts higher.
                candidates[n++] = ((long) Float.floatToRawIntBits(w) << 32) | (Integer.MAX_VALUE - i);
            } else {
                weights[i] = 0f;
            }
        }
        heapSort(candidates, n);
        double needed = topP * total;
        double cumulative = 0;
        int keepFrom = n - 1;
        while (keepFrom > 0) {
            cumulative += Float.intBitsToFloat((int) (candidates[keepFrom] >>> 32));
            if (cumulative >= needed) {
                break;
            }
            keepFrom--;
        }
        for (int c = 0; c < keepFrom; c++) {
            weights[Integer.MAX_VALUE - (int) candidates[c]] = 0f;
        }
    }

    /** The filter result of the last draw (0 = removed), for tests. */
    float[] lastWeights() {
        return weights;
    }

    /** The k-th largest logit (NaN skipped); -infinity when there are fewer than k. */
    private float kthLargest(float[] logits) {
        float[] heap = topKHeap;
        int k = heap.length;
        int size = 0;
        for (int i = 0; i < vocabSize; i++) {
            float v = logits[i];
            if (size < k) {
                if (v == v) {
                    heap[size] = v;
                    siftUp(heap, size++);
                }
            } else if (v > heap[0]) {
                heap[0] = v;
                siftDown(heap, 0, k);
            }
        }
        return size < k ? Float.NEGATIVE_INFINITY : heap[0];
    }

    private static void siftUp(float[] heap, int i) {
        float v = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= v) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = v;
    }

    private static void siftDown(float[] heap, int i, int size) {
        float v = heap[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && heap[child + 1] < heap[child]) {
                child++;
            }
            if (heap[child] >= v) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = v;
    }

    /** Ascending in-place heap sort: no allocation, unlike Arrays.sort's run merging on large inputs. */
    static void heapSort(long[] a, int n) {
        for (int i = n / 2 - 1; i >= 0; i--) {
            maxHeapDown(a, i, n);
        }
        for (int end = n - 1; end > 0; end--) {
            long top = a[0];
            a[0] = a[end];
            a[end] = top;
            maxHeapDown(a, 0, end);
        }
    }

    private static void maxHeapDown(long[] a, int i, int size) {
        long v = a[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && a[child + 1] > a[child]) {
                child++;
            }
            if (a[child] <= v) {
                break;
            }
            a[i] = a[child];
            i = child;
        }
        a[i] = v;
    }
}
