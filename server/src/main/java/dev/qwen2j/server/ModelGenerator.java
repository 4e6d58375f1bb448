package dev.qwen2j.server;

import dev.qwen2j.core.chat.ChatTemplate;
import dev.qwen2j.core.chat.RenderedPrompt;
import dev.qwen2j.model.GenerationListener;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.GenerationResult;
import dev.qwen2j.model.Model;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * A {@link Generator} on a loaded {@link Model}. The server renders chat prompts itself (the template with the
 * request's tools) and feeds the text as is, so tools reach the template without widening the model's API.
 */
public final class ModelGenerator implements Generator {

    private final Model model;
    private final String name;
    private final ChatTemplate template;

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

    @Override
    public GenerationResult generate(RenderedPrompt prompt, GenerationOptions options, GenerationListener listener) {
        return model.generate(prompt.text(), options.toBuilder().chat(false).build(), listener);
    }
}
