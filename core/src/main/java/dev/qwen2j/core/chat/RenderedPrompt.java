package dev.qwen2j.core.chat;

import java.util.List;
import java.util.Map;

/**
 * A prompt ready to encode, with what the output will look like: the markers of the model's thought and whether
 * the prompt itself already opened one.
 *
 * @param text         the text to encode
 * @param reasoning    the thought markers to split the output by ({@link ReasoningFormat#NONE} for raw prompts)
 * @param opensThought true when the prompt ends inside an opened thought
 */
public record RenderedPrompt(String text, ReasoningFormat reasoning, boolean opensThought) {

    /**
     * A conversation rendered with {@code template}, the tools (null for none) and the assistant's turn opened.
     * Qwen-family models that think mark it with {@code <think>} even where the template does not say so, so that
     * is the format unless the template or prompt names another.
     *
     * @throws ChatTemplateException when the template refuses the messages
     */
    public static RenderedPrompt chat(ChatTemplate template, List<Map<String, Object>> messages,
                                      List<Map<String, Object>> tools) {
        String text = template.render(messages, tools, true, null);
        ReasoningFormat detected = ReasoningFormat.detect(template.source(), text);
        ReasoningFormat reasoning = detected.marksThinking() ? detected : ReasoningFormat.THINK;
        return new RenderedPrompt(text, reasoning, reasoning.promptOpensThought(text));
    }

    /** A raw prompt, fed as is; its output is all answer. */
    public static RenderedPrompt raw(String text) {
        return new RenderedPrompt(text, ReasoningFormat.NONE, false);
    }
}
