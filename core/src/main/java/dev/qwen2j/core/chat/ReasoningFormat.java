package dev.qwen2j.core.chat;

import java.util.List;
import java.util.Objects;

/**
 * How a reasoning model marks its thinking apart from its answer.
 * <ul>
 *   <li>{@link #THINK}: {@code <think>…</think>} then the answer (QwQ, DeepSeek-R1-Distill-Qwen; their templates
 *       may open {@code <think>} in the prompt itself).</li>
 *   <li>{@link #SKY_T1}: {@code <|begin_of_thought|>…<|end_of_thought|>} then
 *       {@code <|begin_of_solution|>…<|end_of_solution|>} (Sky-T1, as its system prompt asks).</li>
 *   <li>{@link #NONE}: no markers; everything is the answer.</li>
 * </ul>
 *
 * @param name          the preset's name: {@code think}, {@code sky-t1} or {@code none}
 * @param thoughtStart  opens the thinking, or null for none
 * @param thoughtEnd    closes the thinking, or null for none
 * @param solutionStart opens the answer (its marker is dropped from the answer), or null
 * @param solutionEnd   closes the answer (dropped likewise), or null
 * @param transition    what follows {@code thoughtEnd} when a thinking budget closes the think, so that the model
 *                      goes on in its own answer layout
 * @param continuation  what replaces an end of thinking that comes before the minimum thinking length (the s1
 *                      paper's "Wait")
 */
public record ReasoningFormat(String name, String thoughtStart, String thoughtEnd, String solutionStart,
                              String solutionEnd, String transition, String continuation) {

    public static final ReasoningFormat THINK =
            new ReasoningFormat("think", "<think>", "</think>", null, null, "\n\n", "Wait");
    public static final ReasoningFormat SKY_T1 = new ReasoningFormat("sky-t1", "<|begin_of_thought|>",
            "<|end_of_thought|>", "<|begin_of_solution|>", "<|end_of_solution|>", "\n\n<|begin_of_solution|>\n\n",
            "Wait");
    public static final ReasoningFormat NONE = new ReasoningFormat("none", null, null, null, null, "", "");

    private static final List<ReasoningFormat> PRESETS = List.of(THINK, SKY_T1, NONE);

    public ReasoningFormat {
        Objects.requireNonNull(name, "name");
        if ((thoughtStart == null) != (thoughtEnd == null) || "".equals(thoughtStart) || "".equals(thoughtEnd)) {
            throw new IllegalArgumentException("reasoning format " + name
                    + ": thoughtStart and thoughtEnd are both non-empty or both null");
        }
        if ("".equals(solutionStart) || "".equals(solutionEnd)) {
            throw new IllegalArgumentException("reasoning format " + name + ": solution markers may be null, not empty");
        }
        Objects.requireNonNull(transition, "transition");
        Objects.requireNonNull(continuation, "continuation");
    }

    /** True when this format has thinking markers at all. */
    public boolean marksThinking() {
        return thoughtStart != null;
    }

    /** The same format with another text after a budget-forced end of thinking. */
    public ReasoningFormat withTransition(String transition) {
        return new ReasoningFormat(name, thoughtStart, thoughtEnd, solutionStart, solutionEnd, transition, continuation);
    }

    /** The same format with another word for a too-early end of thinking. */
    public ReasoningFormat withContinuation(String continuation) {
        return new ReasoningFormat(name, thoughtStart, thoughtEnd, solutionStart, solutionEnd, transition, continuation);
    }

    /**
     * The preset of that name.
     *
     * @throws IllegalArgumentException for an unknown name (the message lists the known ones)
     */
    public static ReasoningFormat named(String name) {
        for (ReasoningFormat f : PRESETS) {
            if (f.name.equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown reasoning format '" + name + "'; known: think, sky-t1, none");
    }

    /**
     * The format a model uses, judged from its chat template source and a rendered prompt: Sky-T1's markers where
     * the prompt (its system prompt) asks for them, {@code <think>} where the template or prompt names it, else
     * none.
     */
    public static ReasoningFormat detect(String templateSource, String renderedPrompt) {
        String template = templateSource == null ? "" : templateSource;
        String prompt = renderedPrompt == null ? "" : renderedPrompt;
        if (prompt.contains(SKY_T1.thoughtStart) || template.contains(SKY_T1.thoughtStart)) {
            return SKY_T1;
        }
        if (prompt.contains(THINK.thoughtStart) || template.contains(THINK.thoughtStart)
                || template.contains(THINK.thoughtEnd)) {
            return THINK;
        }
        return NONE;
    }

    /** True when {@code renderedPrompt} ends inside an opened thought (R1-Distill's and QwQ's generation prompts). */
    public boolean promptOpensThought(String renderedPrompt) {
        if (thoughtStart == null) {
            return false;
        }
        return renderedPrompt.stripTrailing().endsWith(thoughtStart);
    }
}
