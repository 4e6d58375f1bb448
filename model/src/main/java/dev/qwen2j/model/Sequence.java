package dev.qwen2j.model;

import dev.qwen2j.core.chat.ReasoningSplitter;
import dev.qwen2j.core.sampling.Sampler;
import dev.qwen2j.core.tokenizer.StreamingDecoder;

/**
 * One sequence of a {@link BatchEngine}: its tokens, its cache and position, its sampler and stop conditions, and
 * the text it produced, split into reasoning and answer. Between steps it holds the logits of its last token; {@link
 * #advance()} samples from them and queues the tokens the next step feeds (the sampled one, or those a thinking
 * budget inserts). Confined to the generating thread.
 */
final class Sequence implements ReasoningSplitter.Sink {

    final KvCache cache;
    /** Tokens in the cache: the next fed token goes to this position. */
    int position;
    /** This sequence's logits between steps ([vocab]); the session's row when it decodes alone. */
    float[] logits;

    private final int[] history;
    private final int promptLength;
    private int length;
    private final int maxTokens;
    private final Sampler sampler;
    private final int[] stopIds;
    private final StreamingDecoder decoder;
    private final StopStringMatcher stopStrings;
    private final ReasoningSplitter splitter;
    private final ThinkingControl thinking;
    private final GenerationListener listener;
    private final LogprobsCollector logprobs; // null unless asked for
    private final StringBuilder text = new StringBuilder();

    /** Tokens queued for the next forward pass. */
    final int[] feed;
    int feedCount;
    private int generated;
    private int thinkingTokens;
    private FinishReason finishReason;
    private long prefillNanos;
    private long decodeStart;
    private long decodeEnd;
    private int decodeSteps;
    /** Prompt tokens whose keys and values came from the prefix cache. */
    int cachedTokens;

    /**
     * @param cache    the sequence's KV cache; a pooled session's own cache stays open ({@link #release()} only
     *                 gives pages back to a pool)
     * @param logprobs what reports the sampled tokens' log-probabilities, or null
     */
    Sequence(int[] prompt, int maxTokens, KvCache cache, Sampler sampler, int[] stopIds,
             StreamingDecoder decoder, StopStringMatcher stopStrings, ThinkingControl thinking,
             GenerationListener listener, LogprobsCollector logprobs) {
        this.cache = cache;
        this.promptLength = prompt.length;
        this.maxTokens = maxTokens;
        this.history = new int[prompt.length + maxTokens];
        System.arraycopy(prompt, 0, history, 0, prompt.length);
        this.length = prompt.length;
        this.sampler = sampler;
        this.stopIds = stopIds;
        this.decoder = decoder;
        this.stopStrings = stopStrings;
        this.thinking = thinking;
        this.splitter = new ReasoningSplitter(thinking.format(), thinking.startsInThought(), this);
        this.listener = listener;
        this.logprobs = logprobs;
        this.feed = new int[1 + thinking.closeTokens().length + thinking.continuationTokens().length];
    }

    /** The prompt, then the tokens generated so far: the prompt's tokens are the first {@link #promptLength()}. */
    int[] promptTokens() {
        return history;
    }

    int promptLength() {
        return promptLength;
    }

    void prefilled(long nanos) {
        prefillNanos = nanos;
    }

    boolean finished() {
        return finishReason != null;
    }

    /** True when the listener asks to stop, or the generating thread was interrupted. */
    boolean cancelRequested() {
        return listener.isCancelled() || Thread.currentThread().isInterrupted();
    }

    /** Ends the sequence as {@link FinishReason#CANCELLED} (before its prompt was even prefilled, perhaps). */
    void cancel() {
        feedCount = 0;
        finish(FinishReason.CANCELLED);
    }

    /**
     * Samples the next token from {@link #logits} and queues what the next step feeds; or finishes (end of
     * sequence, stop string, length, cancellation), queueing nothing.
     */
    void advance() {
        feedCount = 0;
        if (decodeStart == 0) {
            decodeStart = System.nanoTime();
        } else {
            decodeSteps++;
        }
        if (cancelRequested()) {
            finish(FinishReason.CANCELLED);
            return;
        }
        if (logprobs != null) {
            logprobs.capture(logits); // before the sampler changes them
        }
        int next = sampler.sample(logits, history, length, promptLength);
        boolean inThought = splitter.inReasoning();
        if (inThought && thinkingTokens < thinking.minTokens() && next == thinking.endOfThinking()) {
            // Too early to stop thinking: the model gets the continuation instead of the end of thinking.
            for (int id : thinking.continuationTokens()) {
                if (!append(id, true)) {
                    return;
                }
            }
        } else {
            if (contains(stopIds, next)) {
                generated++;
                history[length++] = next;
                finish(FinishReason.EOS);
                return;
            }
            if (logprobs != null && generated < maxTokens) {
                listener.onLogprobs(logprobs.of(next));
            }
            if (!append(next, inThought)) {
                return;
            }
        }
        if (thinking.maxTokens() > 0 && splitter.inReasoning() && thinkingTokens >= thinking.maxTokens()) {
            // The budget is spent: close the thought (a character cut by the budget ends as U+FFFD) and answer.
            for (int id : thinking.closeTokens()) {
                if (!append(id, false)) {
                    return;
                }
            }
        }
        if (generated == maxTokens) {
            feedCount = 0;
            finish(FinishReason.LENGTH);
        }
    }

    /** Adds one generated token, streams its text and queues it; false when that finished the sequence. */
    private boolean append(int id, boolean thought) {
        if (generated == maxTokens) {
            feedCount = 0;
            finish(FinishReason.LENGTH);
            return false;
        }
        generated++;
        history[length++] = id;
        if (thought) {
            thinkingTokens++;
        }
        emit(stopStrings.accept(decoder.accept(id)));
        if (stopStrings.stopped()) {
            feedCount = 0;
            finish(FinishReason.STOP);
            return false;
        }
        feed[feedCount++] = id;
        return true;
    }

    private void finish(FinishReason reason) {
        decodeEnd = System.nanoTime();
        if (reason != FinishReason.STOP) {
            // Bytes of an incomplete character, and text held back as a possible start of a stop string.
            emit(stopStrings.accept(decoder.finish()));
            emit(stopStrings.finish());
            if (stopStrings.stopped() && reason == FinishReason.LENGTH) {
                reason = FinishReason.STOP;
            }
        }
        splitter.finish();
        finishReason = reason;
    }

    private void emit(String piece) {
        if (!piece.isEmpty()) {
            text.append(piece);
            listener.onText(piece);
            splitter.accept(piece);
        }
    }

    @Override
    public void reasoning(String piece) {
        listener.onChannelText(GenerationListener.Channel.REASONING, piece);
    }

    @Override
    public void answer(String piece) {
        listener.onChannelText(GenerationListener.Channel.ANSWER, piece);
    }

    /** The outcome, once {@link #finished()}. */
    GenerationResult result() {
        double prefillSeconds = prefillNanos / 1e9;
        int prefilledTokens = promptLength - cachedTokens;
        double decodeSeconds = (decodeEnd - decodeStart) / 1e9;
        return new GenerationResult(text.toString(), finishReason, promptLength, generated,
                prefilledTokens / Math.max(prefillSeconds, 1e-9),
                decodeSteps == 0 ? 0 : decodeSteps / Math.max(decodeSeconds, 1e-9),
                splitter.reasoning(), splitter.answer(), thinkingTokens, prefillSeconds + decodeSeconds, cachedTokens);
    }

    /** Gives the cache's pages back to their pool (a session's own cache stays as it is, for the session's next use). */
    void release() {
        cache.releasePooledPages();
    }

    private static boolean contains(int[] ids, int id) {
        for (int x : ids) {
            if (x == id) {
                return true;
            }
        }
        return false;
    }
}
