package dev.qwen2j.server;

import dev.qwen2j.core.chat.ReasoningFormat;
import dev.qwen2j.core.chat.RenderedPrompt;
import dev.qwen2j.model.ContinuousBatch;
import dev.qwen2j.model.FinishReason;
import dev.qwen2j.model.GenerationListener;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.GenerationResult;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link Generator} that plays scripted output, chosen by the last message: "tool" calls a tool, "forever"
 * streams until cancelled, "slow" takes a second, anything else thinks and says hello. Lets the server's tests
 * see tool calls (the demo model cannot make them) and disconnects of known timing.
 */
final class StubGenerator implements Generator {

    static final String TOOL_OUTPUT = "<think>\nplan\n</think>\n\n<tool_call>\n{\"name\": \"add\", \"arguments\": "
            + "{\"a\": 358, \"b\": 479}}\n</tool_call>";

    final List<List<Map<String, Object>>> toolsSeen = new CopyOnWriteArrayList<>();
    final AtomicInteger foreverPieces = new AtomicInteger();
    final List<FinishReason> finished = new CopyOnWriteArrayList<>();

    @Override
    public String modelName() {
        return "stub";
    }

    @Override
    public RenderedPrompt chatPrompt(List<Map<String, Object>> messages, List<Map<String, Object>> tools) {
        if (tools != null) {
            toolsSeen.add(tools);
        }
        return new RenderedPrompt(String.valueOf(messages.getLast().get("content")), ReasoningFormat.THINK, false);
    }

    @Override
    public RenderedPrompt textPrompt(String text) {
        return RenderedPrompt.raw(text);
    }

    /** The choices one after another: a stand-in needs no batch. */
    @Override
    public void generate(RenderedPrompt prompt, GenerationOptions options,
                         List<? extends ContinuousBatch.Listener> choices) {
        for (ContinuousBatch.Listener choice : choices) {
            choice.onFinish(generate(prompt, choice));
        }
    }

    private GenerationResult generate(RenderedPrompt prompt, GenerationListener listener) {
        String text = prompt.text();
        if (text.equals("forever")) {
            for (int i = 0; i < 100_000; i++) {
                if (listener.isCancelled()) {
                    finished.add(FinishReason.CANCELLED);
                    return result("", FinishReason.CANCELLED, i);
                }
                foreverPieces.incrementAndGet();
                listener.onText("x ");
                sleep(20);
            }
            return result("", FinishReason.LENGTH, 100_000);
        }
        List<String> pieces = text.equals("tool") ? split(TOOL_OUTPUT, 5) : text.equals("slow")
                ? split("<think>\nwait\n</think>\n\ndone", 2) : split("<think>\nhm\n</think>\n\nhello", 3);
        for (String piece : pieces) {
            if (listener.isCancelled()) {
                return result(text, FinishReason.CANCELLED, 0);
            }
            listener.onText(piece);
            if (text.equals("slow")) {
                sleep(1000 / pieces.size());
            }
        }
        finished.add(FinishReason.EOS);
        return result(text, FinishReason.EOS, pieces.size());
    }

    /** Small pieces, so that tags arrive split across them. */
    private static List<String> split(String text, int size) {
        List<String> pieces = new java.util.ArrayList<>();
        for (int i = 0; i < text.length(); i += size) {
            pieces.add(text.substring(i, Math.min(text.length(), i + size)));
        }
        return pieces;
    }

    private static GenerationResult result(String text, FinishReason reason, int generated) {
        return new GenerationResult(text, reason, 3, generated, 0, 0);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
