package dev.qwen2j.server;

import dev.qwen2j.core.chat.RenderedPrompt;
import dev.qwen2j.model.GenerationListener;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.GenerationResult;

import java.util.List;
import java.util.Map;

/**
 * What the server generates with: a {@link ModelGenerator} over a loaded model, or a stand-in in tests. The one
 * seam the batch engine will plug into.
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

    /** Generates from {@code prompt}; thread-safe, blocking, streaming to {@code listener}. */
    GenerationResult generate(RenderedPrompt prompt, GenerationOptions options, GenerationListener listener);

}
