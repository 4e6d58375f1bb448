package dev.qwen2j.server;

import dev.qwen2j.core.chat.ChatTemplate;
import dev.qwen2j.core.chat.RenderedPrompt;
import dev.qwen2j.model.ContextLengthExceededException;
import dev.qwen2j.model.ContinuousBatch;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.GenerationResult;
import dev.qwen2j.model.Model;
import dev.qwen2j.model.PreparedPrompt;
import dev.qwen2j.model.TokenLogprobs;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
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

    private final Model model;
    private final String name;
    private final ChatTemplate template;
    private volatile DecodeLoop loop;

    public ModelGenerator(Model model, String name) throws IOException {
        this.model = model;
        this.name = name;
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
     * @throws IllegalArgumentException when {@code maxSequences} contexts of KV cache cannot fit in memory
     */
    @Override
    public synchronized void open(int maxSequences, IntConsumer stepSizes) {
        if (loop != null) {
            throw new IllegalStateException("the generator is open already");
        }
        loop = new DecodeLoop(model, maxSequences, stepSizes);
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
        } catch (IllegalArgumentException e) { // an empty prompt, a sampling value generation_config.json rejects
            throw ApiException.invalid(null, e.getMessage());
        }
        Request request = new Request(prepared, choices);
        decoder.submit(request);
        request.relay();
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
