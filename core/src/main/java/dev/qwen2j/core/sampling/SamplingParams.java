package dev.qwen2j.core.sampling;

/**
 * How the next token is chosen from the logits, with the semantics of Hugging Face transformers'
 * logits processors (repetition penalty, temperature, top-k, top-p, min-p) and of OpenAI/vLLM for the
 * presence and frequency penalties.
 *
 * @param temperature       divides the logits; 0 means greedy (argmax), no randomness
 * @param topK              keep the k most likely tokens (ties with the k-th included); 0 = off
 * @param topP              keep the smallest set of most likely tokens whose probabilities sum to at least
 *                          topP (always at least one); 1 = off
 * @param minP              drop tokens less likely than {@code minP ×} the most likely one's probability; 0 = off
 * @param repetitionPenalty divides positive and multiplies negative logits of every token seen before
 *                          (prompt included), once per distinct token; 1 = off
 * @param presencePenalty   subtracted once from the logit of every token that occurred; 0 = off
 * @param frequencyPenalty  subtracted from a token's logit once per occurrence; 0 = off
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repetitionPenalty,
                             float presencePenalty, float frequencyPenalty) {

    /** Greedy decoding with no penalties: what transformers does with {@code do_sample=False}. */
    public static final SamplingParams GREEDY = new SamplingParams(0f, 0, 1f, 0f, 1f, 0f, 0f);

    public SamplingParams {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0 (0 = off), got " + topK);
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw new IllegalArgumentException("topP must be in (0, 1] (1 = off), got " + topP);
        }
        if (!(minP >= 0f && minP <= 1f)) {
            throw new IllegalArgumentException("minP must be in [0, 1] (0 = off), got " + minP);
        }
        if (!(repetitionPenalty > 0f) || Float.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetitionPenalty must be a finite number > 0 (1 = off), got "
                    + repetitionPenalty);
        }
        if (!Float.isFinite(presencePenalty)) {
            throw new IllegalArgumentException("presencePenalty must be finite (0 = off), got " + presencePenalty);
        }
        if (!Float.isFinite(frequencyPenalty)) {
            throw new IllegalArgumentException("frequencyPenalty must be finite (0 = off), got " + frequencyPenalty);
        }
    }

    /** Plain sampling at {@code temperature} with every filter and penalty off. */
    public static SamplingParams ofTemperature(float temperature) {
        return new SamplingParams(temperature, 0, 1f, 0f, 1f, 0f, 0f);
    }

    /** True when the next token is the argmax (temperature 0). */
    public boolean isGreedy() {
        return temperature == 0f;
    }

    boolean hasPenalties() {
        return repetitionPenalty != 1f || presencePenalty != 0f || frequencyPenalty != 0f;
    }
}
