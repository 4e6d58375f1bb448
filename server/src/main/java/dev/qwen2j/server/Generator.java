package dev.qwen2j.server;

import dev.qwen2j.core.chat.RenderedPrompt;
import dev.qwen2j.model.ContinuousBatch;
import dev.qwen2j.model.GenerationOptions;

import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * What the server generates with: a {@link ModelGenerator} over a loaded model (one continuous batch for every
 * request), or a stand-in in tests. The server opens it when it starts and closes it when it has stopped.
 */
public interface Generator {

    /** The id /v1/models lists and requests must name. */
    String modelName();

    /**
     * The prompt for a conversation: OpenAI-style messages (already template maps) and tool definitions (null for
     * none), with the assistant's turn opened.
     */
    RenderedPrompt chatPrompt(List<Map<String, Object>> messages, List<Map<String, Object>> tools);

    /** A raw prompt, fed as is (/v1/completions). */
    RenderedPrompt textPrompt(String text);

    /**
     * Generates {@code choices.size()} choices from {@code prompt} (choice i samples with the options' seed + i),
     * blocking until every one has finished. Choice i's text and outcome go to {@code choices.get(i)}, on the calling
     * thread; their {@code isCancelled} may be polled from another. Thread-safe.
     *
     * @throws dev.qwen2j.model.ContextLengthExceededException when the prompt and max tokens exceed the context
     */
    void generate(RenderedPrompt prompt, GenerationOptions options, List<? extends ContinuousBatch.Listener> choices);

    /**
     * Called once before the first request: at most {@code maxSequences} sequences run at once (the server admits no
     * more), and the size of every decode step goes to {@code stepSizes}.
     */
    default void open(int maxSequences, IntConsumer stepSizes) {
    }

    /**
     * The KV page pool as last seen between steps, for /metrics: pages in all, held by running sequences, and
     * cached (kept for the prefix cache, held by none), and requests admitted by the server that wait for pages.
     */
    record KvPoolState(int pages, int held, int cached, int waiting) {
        public static final KvPoolState NONE = new KvPoolState(0, 0, 0, 0);
    }

    /** The KV pool now; {@link KvPoolState#NONE} for a generator without one. */
    default KvPoolState kvPool() {
        return KvPoolState.NONE;
    }

    /** Called once the server has stopped taking requests: ends what still runs and frees what open took. */
    default void close() {
    }
}
