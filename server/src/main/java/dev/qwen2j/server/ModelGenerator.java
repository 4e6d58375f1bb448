package dev.qwen2j.server;

import dev.qwen2j.core.chat.ChatTemplate;
import dev.qwen2j.core.chat.RenderedPrompt;
import dev.qwen2j.model.ContextLengthExceededException;
import dev.qwen2j.model.ContinuousBatch;
import dev.qwen2j.model.ContinuousBatchOptions;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.GenerationResult;
import dev.qwen2j.model.KvPoolPlan;
import dev.qwen2j.model.Model;
import dev.qwen2j.model.ModelClosedException;
import dev.qwen2j.model.PreparedPrompt;
import dev.qwen2j.model.TokenLogprobs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.IntConsumer;

/**
 * A {@link Generator} on a loaded {@link Model}: every request's choices decode in one continuous batch, stepped by
 * one {@link DecodeLoop}; what the loop decodes travels back to the request's own thread, which streams it, so a
 * slow client never holds up the batch. The server renders chat prompts itself (the template with the request's
 * tools) and feeds the text as is, so tools reach the template without widening the model's API.
 */
public final class ModelGenerator implements Generator {

    private static final Logger LOG = LoggerFactory.getLogger(ModelGenerator.class);

    private final Model model;
    private final String name;
    private final long kvMemoryBytes;
    private final boolean prefixCache;
    private final ChatTemplate template;
    private volatile DecodeLoop loop;

    /** A generator whose KV pool is sized to memory, with the prefix cache on. */
    public ModelGenerator(Model model, String name) throws IOException {
        this(model, name, 0, true);
    }

    /**
     * @param kvMemoryBytes bytes of the continuous batch's KV pool, or 0 to size it to memory ({@link KvPoolPlan})
     * @param prefixCache   reuse the KV pages of earlier prompts' prefixes
     */
    public ModelGenerator(Model model, String name, long kvMemoryBytes, boolean prefixCache) throws IOException {
        if (kvMemoryBytes < 0) {
            throw new IllegalArgumentException("kvMemoryBytes must be >= 0 (0 = sized to memory), got " + kvMemoryBytes);
        }
        this.model = model;
        this.name = name;
        this.kvMemoryBytes = kvMemoryBytes;
        this.prefixCache = prefixCache;
        this.template = ChatTemplate.load(model.folder());
    }

    @Override
    public String modelName() {
        return name;
    }

    @Override
    public RenderedPrompt chatPrompt(List<Map<String, Object>> messages, List<Map<String, Object>> tools) {
        return RenderedPrompt.chat(template, messages, tools);
    }

    @Override
    public RenderedPrompt textPrompt(String text) {
        return RenderedPrompt.raw(text);
    }

    /**
     * Allocates the KV pool and logs its plan.
     *
     * @throws IllegalArgumentException when the KV pool cannot fit in memory
     */
    @Override
    public synchronized void open(int maxSequences, IntConsumer stepSizes) {
        if (loop != null) {
            throw new IllegalStateException("the generator is open already");
        }
        loop = new DecodeLoop(model, new ContinuousBatchOptions(maxSequences, kvMemoryBytes, prefixCache), stepSizes);
        LOG.info("{}; prefix cache {}", loop.plan().describe(), prefixCache ? "on" : "off");
    }

    @Override
    public KvPoolState kvPool() {
        DecodeLoop decoder = loop;
        return decoder == null ? KvPoolState.NONE : decoder.poolState();
    }

    @Override
    public synchronized void close() {
        if (loop != null) {
            loop.close();
            loop = null;
        }
    }

    @Override
    public void generate(RenderedPrompt prompt, GenerationOptions options,
                         List<? extends ContinuousBatch.Listener> choices) {
        DecodeLoop decoder = loop;
        if (decoder == null) {
            throw new IllegalStateException("the generator is not open");
        }
        PreparedPrompt prepared;
        try {
            prepared = model.prepare(prompt.text(), options.toBuilder().chat(false).build());
        } catch (ContextLengthExceededException e) {
            throw e; // the caller names the limit
        } catch (ModelClosedException e) {
            throw modelClosed();
        } catch (IllegalArgumentException e) { // an empty prompt, a sampling value generation_config.json rejects
            throw ApiException.invalid(null, e.getMessage());
        }
        checkFits(prepared, choices.size(), decoder.plan());
        Request request = new Request(prepared, choices);
        decoder.submit(request);
        try {
            request.relay();
        } catch (ModelClosedException e) {
            throw modelClosed();
        } catch (IllegalArgumentException e) { // the batch refused what checkFits let through: the request's fault
            throw ApiException.invalid(null, e.getMessage());
        }
    }

    /** A request whose KV pages could not fit even in an empty pool would wait forever: refused at once. */
    private static void checkFits(PreparedPrompt prompt, int choices, KvPoolPlan plan) {
        int pages = KvPoolPlan.pagesFor(prompt.promptTokens(), prompt.maxTokens(), choices);
        if (pages > plan.pages()) {
            throw new ApiException(400, "invalid_request_error", "max_tokens", "kv_cache_exceeded",
                    String.format(Locale.ROOT, "%d prompt tokens and up to %d generated tokens x %d choice(s) need "
                                    + "%d KV pages, more than the server's whole KV pool of %d pages (%d positions;"
                                    + " --kv-memory): lower max_tokens or n", prompt.promptTokens(),
                            prompt.maxTokens(), choices, pages, plan.pages(),
                            plan.positions()));
        }
    }

    /** The model was closed under the server (it is shutting down, or its owner closed it): 503, not a fault. */
    private static ApiException modelClosed() {
        return new ApiException(503, "service_unavailable", null, "model_closed",
                "the model is closed: this server cannot generate any more");
    }

    /**
     * One request's choices between the loop and the request thread: the loop's listeners queue what they hear as
     * events, which {@link #relay()} replays to the request's listeners on its own thread.
     */
    private static final class Request implements DecodeLoop.Job {
        private final PreparedPrompt prompt;
        private final List<? extends ContinuousBatch.Listener> choices;
        private final List<ContinuousBatch.Listener> samples;
        private final LinkedBlockingQueue<Runnable> events = new LinkedBlockingQueue<>();
        private volatile boolean abandoned; // the request thread was interrupted
        private volatile int finishedOnLoop;
        private int relayed;

        Request(PreparedPrompt prompt, List<? extends ContinuousBatch.Listener> choices) {
            this.prompt = prompt;
            this.choices = choices;
            this.samples = new ArrayList<>(choices.size());
            for (ContinuousBatch.Listener choice : choices) {
                samples.add(new Sample(choice));
            }
        }

        /** Hears one sample on the loop thread and queues it for the request thread. */
        private final class Sample implements ContinuousBatch.Listener {
            private final ContinuousBatch.Listener choice;

            Sample(ContinuousBatch.Listener choice) {
                this.choice = choice;
            }

            @Override
            public void onText(String text) {
                events.add(() -> choice.onText(text));
            }

            @Override
            public void onChannelText(Channel channel, String text) {
                events.add(() -> choice.onChannelText(channel, text));
            }

            @Override
            public void onLogprobs(TokenLogprobs logprobs) {
                events.add(() -> choice.onLogprobs(logprobs));
            }

            @Override
            public boolean isCancelled() {
                return abandoned || choice.isCancelled();
            }

            @Override
            public void onFinish(GenerationResult result) {
                finishedOnLoop++; // only the loop thread writes it
                events.add(() -> {
                    relayed++;
                    choice.onFinish(result);
                });
            }
        }

        @Override
        public PreparedPrompt prompt() {
            return prompt;
        }

        @Override
        public List<? extends ContinuousBatch.Listener> samples() {
            return samples;
        }

        @Override
        public boolean finished() {
            return finishedOnLoop == samples.size();
        }

        @Override
        public void fail(RuntimeException e) {
            events.add(() -> {
                throw e;
            });
        }

        /**
         * Replays the events on this thread until every choice has finished; a failure is rethrown. Interrupted, it
         * cancels the choices and still waits the step or so until they have left the batch.
         */
        void relay() {
            boolean interrupted = false;
            try {
                while (relayed < choices.size()) {
                    try {
                        events.take().run();
                    } catch (InterruptedException e) {
                        interrupted = true;
                        abandoned = true;
                    }
                }
            } finally {
                if (relayed < choices.size()) {
                    abandoned = true; // a failure, or a listener threw: the rest is not wanted
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
