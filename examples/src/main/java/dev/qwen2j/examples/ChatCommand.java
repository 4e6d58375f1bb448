package dev.qwen2j.examples;

import dev.qwen2j.model.ContextLengthExceededException;
import dev.qwen2j.model.GenerationListener;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.GenerationResult;
import dev.qwen2j.model.Message;
import dev.qwen2j.model.Model;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code qwen2j chat}: an interactive conversation, streamed, with the reasoning shown apart from the answer. */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat with a model, turn by turn. The reasoning (<think>…</think>, or Sky-T1's",
                "<|begin_of_thought|>…<|end_of_thought|>) is shown dimmed, apart from the answer.",
                "Commands: /reset (forget the conversation), /exit (or end of input)."})
final class ChatCommand implements Callable<Integer> {

    private static final String DIM = "\033[2m";
    private static final String RESET = "\033[0m";

    @Mixin
    ModelSource source;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--plain", description = "No terminal colours: reasoning is marked [thinking] instead of dimmed.")
    boolean plain;

    @Mixin
    CommandErrors.Verbosity verbosity;

    @Spec
    CommandSpec spec;

    /** Where the user's lines come from; tests replace it. */
    BufferedReader input = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        GenerationOptions options = sampling.build(sampling.toBuilder());
        boolean showThinking = sampling.thinkingShown();
        boolean colour = !plain && System.console() != null && System.getenv("NO_COLOR") == null;
        try (Model model = source.load(0, err)) {
            List<Message> conversation = new ArrayList<>();
            if (options.systemPrompt() != null) {
                conversation.add(Message.system(options.systemPrompt()));
            }
            int systemMessages = conversation.size();
            out.println("qwen2j chat with " + source.model + " · /reset forgets, /exit quits");
            while (true) {
                out.print("> ");
                out.flush();
                String line = input.readLine();
                if (line == null || line.strip().equals("/exit") || line.strip().equals("/quit")) {
                    out.println();
                    out.flush();
                    return 0;
                }
                if (line.isBlank()) {
                    continue;
                }
                if (line.strip().equals("/reset")) {
                    conversation.subList(systemMessages, conversation.size()).clear();
                    out.println("(conversation forgotten)");
                    continue;
                }
                if (line.strip().startsWith("/")) {
                    out.println("(commands: /reset, /exit)");
                    continue;
                }
                conversation.add(Message.user(line));
                Display display = new Display(out, colour, showThinking);
                GenerationResult result;
                try {
                    result = model.chat(conversation, options, display);
                } catch (ContextLengthExceededException e) {
                    conversation.removeLast();
                    out.println("(" + e.getMessage() + "; /reset to start over)");
                    continue;
                }
                display.end();
                err.println(GenerateCommand.statistics(result, source.loadMillis));
                err.flush();
                String reasoning = result.reasoning();
                conversation.add(Message.assistant(result.answer(), reasoning.isEmpty() ? null : reasoning));
            }
        }
    }

    /** Prints reasoning dimmed (or marked, or not at all) and the answer plainly. */
    private static final class Display implements GenerationListener {
        private final PrintWriter out;
        private final boolean colour;
        private final boolean showThinking;
        private boolean inReasoning;
        private boolean atLineStart = true;

        Display(PrintWriter out, boolean colour, boolean showThinking) {
            this.out = out;
            this.colour = colour;
            this.showThinking = showThinking;
        }

        @Override
        public void onText(String text) {
        }

        @Override
        public void onChannelText(Channel channel, String text) {
            if (channel == Channel.ANSWER) {
                answer(text);
            } else if (showThinking) {
                reasoning(text);
            }
        }

        private void reasoning(String text) {
            if (!inReasoning) {
                out.print(colour ? DIM : "[thinking]\n");
                inReasoning = true;
            }
            print(text);
        }

        private void answer(String text) {
            leaveReasoning();
            print(text);
        }

        void end() {
            leaveReasoning();
            if (!atLineStart) {
                out.println();
            }
            out.flush();
        }

        private void print(String text) {
            out.print(text);
            out.flush();
            atLineStart = text.endsWith("\n");
        }

        private void leaveReasoning() {
            if (inReasoning) {
                out.print((atLineStart ? "" : "\n") + (colour ? RESET : "[answer]\n"));
                atLineStart = true;
                inReasoning = false;
            }
        }
    }
}
