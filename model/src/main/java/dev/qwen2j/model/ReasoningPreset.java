package dev.qwen2j.model;

import dev.qwen2j.core.chat.ReasoningFormat;
import dev.qwen2j.core.chat.SystemPrompts;
import java.util.List;
import java.util.Optional;

/**
 * The published settings of the reasoning models this project is for: their markers, system prompt and sampling.
 * <ul>
 *   <li>{@code sky-t1}: Sky-T1-32B-Preview: Sky-T1 markers, SkyThought's system prompt, and SkyThought's evaluation
 *       sampling ({@code temperature=0,top_p=1}, the default of {@code skythought evaluate}).</li>
 *   <li>{@code qwq}: QwQ-32B: {@code <think>}, the model card's temperature 0.6, top-p 0.95, top-k 40
 *       (its generation_config.json; the card says 20 to 40), min-p 0.</li>
 *   <li>{@code r1-distill}: DeepSeek-R1-Distill-Qwen: {@code <think>} (opened by the template), temperature 0.6 and
 *       top-p 0.95 as the model card recommends, and no system prompt.</li>
 * </ul>
 *
 * @param name         the preset's name
 * @param format       the reasoning markers
 * @param systemPrompt the system prompt, or null for none
 * @param temperature  sampling temperature (0 = greedy)
 * @param topP         nucleus sampling
 * @param topK         top-k, 0 = off
 */
public record ReasoningPreset(String name, ReasoningFormat format, String systemPrompt, double temperature,
                              double topP, int topK) {

    public static final ReasoningPreset SKY_T1 =
            new ReasoningPreset("sky-t1", ReasoningFormat.SKY_T1, SystemPrompts.named("sky-t1"), 0, 1, 0);
    public static final ReasoningPreset QWQ = new ReasoningPreset("qwq", ReasoningFormat.THINK, null, 0.6, 0.95, 40);
    public static final ReasoningPreset R1_DISTILL =
            new ReasoningPreset("r1-distill", ReasoningFormat.THINK, null, 0.6, 0.95, 0);

    private static final List<ReasoningPreset> ALL = List.of(SKY_T1, QWQ, R1_DISTILL);

    /**
     * The preset of that name.
     *
     * @throws IllegalArgumentException for an unknown name (the message lists the known ones)
     */
    public static ReasoningPreset named(String name) {
        for (ReasoningPreset p : ALL) {
            if (p.name.equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown reasoning preset '" + name + "'; known: sky-t1, qwq, r1-distill");
    }

    /**
     * The preset a chat template belongs to: DeepSeek's {@code <｜Assistant｜>} turns mean R1-Distill, a ChatML
     * template that opens {@code <think>} for the assistant means QwQ; else none (Sky-T1 uses Qwen2.5's template,
     * so only its name selects it).
     */
    public static Optional<ReasoningPreset> detect(String templateSource) {
        if (templateSource == null) {
            return Optional.empty();
        }
        if (templateSource.contains("<｜Assistant｜>")) {
            return Optional.of(R1_DISTILL);
        }
        if (templateSource.contains("<|im_start|>assistant\\n<think>")
                || templateSource.contains("<|im_start|>assistant\n<think>")) {
            return Optional.of(QWQ);
        }
        return Optional.empty();
    }

    /** {@code options} with this preset's markers, system prompt and sampling, where the options did not set them. */
    public GenerationOptions applyTo(GenerationOptions options) {
        GenerationOptions.Builder b = options.toBuilder();
        if (options.reasoningFormat() == null) {
            b.reasoningFormat(format);
        }
        if (options.systemPrompt() == null && systemPrompt != null) {
            b.systemPrompt(systemPrompt);
        }
        if (options.temperature() == null) {
            b.temperature(temperature);
        }
        if (options.topP() == null) {
            b.topP(topP);
        }
        if (options.topK() == null) {
            b.topK(topK);
        }
        return b.build();
    }
}
