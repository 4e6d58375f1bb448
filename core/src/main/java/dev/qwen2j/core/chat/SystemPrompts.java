package dev.qwen2j.core.chat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * System prompts that reasoning models were trained or evaluated with, selectable by name.
 * <ul>
 *   <li>{@code sky-t1}: NovaSky's Sky-T1 prompt, from the SkyThought repository
 *       ({@code skythought/evals/models/model_configs.yaml}, key {@code system_prompts.skythought}, as YAML reads
 *       that double-quoted scalar: escaped line breaks join the lines with single spaces, {@code '\n\n'} is two
 *       newlines). The older {@code skythought/tools/util/model_utils.py} spelled the same words as a Python
 *       string with backslash continuations, which also kept each continuation line's indentation.</li>
 *   <li>{@code qwq}: QwQ-32B-Preview's default system prompt, from its chat template.</li>
 *   <li>{@code qwen2.5}: Qwen2.5-Instruct's default system prompt, from its chat template.</li>
 * </ul>
 */
public final class SystemPrompts {

    private static final Map<String, String> PROMPTS = new LinkedHashMap<>();

    static {
        PROMPTS.put("sky-t1", "Your role as an assistant involves thoroughly exploring questions through a systematic"
                + " long thinking process before providing the final precise and accurate solutions. This requires"
                + " engaging in a comprehensive cycle of analysis, summarizing, exploration, reassessment, reflection,"
                + " backtracing, and iteration to develop well-considered thinking process. Please structure your"
                + " response into two main sections: Thought and Solution. In the Thought section, detail your"
                + " reasoning process using the specified format: <|begin_of_thought|> {thought with steps separated"
                + " with '\n\n'} <|end_of_thought|> Each step should include detailed considerations such as"
                + " analisying questions, summarizing relevant findings, brainstorming new ideas, verifying the"
                + " accuracy of the current steps, refining any errors, and revisiting previous steps. In the Solution"
                + " section, based on various attempts, explorations, and reflections from the Thought section,"
                + " systematically present the final solution that you deem correct. The solution should remain a"
                + " logical, accurate, concise expression style and detail necessary step needed to reach the"
                + " conclusion, formatted as follows: <|begin_of_solution|> {final formatted, precise, and clear"
                + " solution} <|end_of_solution|> Now, try to solve the following question through the above"
                + " guidelines:");
        PROMPTS.put("qwq", "You are a helpful and harmless assistant. You are Qwen developed by Alibaba."
                + " You should think step-by-step.");
        PROMPTS.put("qwen2.5", "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
    }

    private SystemPrompts() {
    }

    /**
     * The preset of that name.
     *
     * @throws IllegalArgumentException for an unknown name (the message lists the known ones)
     */
    public static String named(String name) {
        String prompt = PROMPTS.get(name);
        if (prompt == null) {
            throw new IllegalArgumentException("unknown system prompt preset '" + name + "'; known: " + names());
        }
        return prompt;
    }

    /** The preset names, in a stable order. */
    public static Set<String> names() {
        return java.util.Collections.unmodifiableSet(PROMPTS.keySet());
    }
}
