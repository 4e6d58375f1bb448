package dev.qwen2j.model;

import dev.qwen2j.core.chat.ReasoningFormat;
import dev.qwen2j.core.config.GenerationDefaults;
import dev.qwen2j.core.sampling.SamplingParams;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How to generate: length, sampling, stop conditions and prompt format. Immutable; build with
 * {@link #builder()}. Sampling fields left unset take the model's {@code generation_config.json} values, and
 * where that file is silent, transformers' {@code GenerationConfig} defaults (top-k 50, top-p 1, repetition
 * penalty 1). As in transformers, a model whose config does not say {@code "do_sample": true} decodes greedily
 * unless a temperature is set here; temperature 0 is always greedy.
 *
 * <pre>{@code
 * GenerationOptions options = GenerationOptions.builder().maxTokens(200).temperature(0.7).topP(0.9).seed(42).build();
 * }</pre>
 */
public final class GenerationOptions {

    /** Tokens generated when {@link Builder#maxTokens(int)} is not called. */
    public static final int DEFAULT_MAX_TOKENS = 512;

    /** transformers' {@code GenerationConfig.top_k} default, used when generation_config.json has none. */
    static final int TRANSFORMERS_DEFAULT_TOP_K = 50;

    private static final GenerationOptions DEFAULTS = builder().build();

    /** The most alternatives {@link Builder#logprobs(int)} reports per token, as OpenAI allows. */
    public static final int MAX_TOP_LOGPROBS = 20;

    private final Integer maxTokens;
    private final Double temperature;
    private final Integer topK;
    private final Double topP;
    private final Double minP;
    private final Double repetitionPenalty;
    private final Double presencePenalty;
    private final Double frequencyPenalty;
    private final Long seed;
    private final List<String> stopStrings;
    private final int[] stopTokenIds;
    private final boolean chat;
    private final String systemPrompt;
    private final int samples;
    private final Integer maxThinkingTokens;
    private final int minThinkingTokens;
    private final int topLogprobs;
    private final ReasoningFormat reasoningFormat;
    private final AnswerExtractor answerExtractor;

    private GenerationOptions(Builder b) {
        maxTokens = b.maxTokens;
        temperature = b.temperature;
        topK = b.topK;
        topP = b.topP;
        minP = b.minP;
        repetitionPenalty = b.repetitionPenalty;
        presencePenalty = b.presencePenalty;
        frequencyPenalty = b.frequencyPenalty;
        seed = b.seed;
        stopStrings = b.stopStrings;
        stopTokenIds = b.stopTokenIds;
        chat = b.chat;
        systemPrompt = b.systemPrompt;
        samples = b.samples;
        maxThinkingTokens = b.maxThinkingTokens;
        minThinkingTokens = b.minThinkingTokens;
        topLogprobs = b.topLogprobs;
        reasoningFormat = b.reasoningFormat;
        answerExtractor = b.answerExtractor;
        if (maxThinkingTokens != null && minThinkingTokens > maxThinkingTokens) {
            throw new IllegalArgumentException("minThinkingTokens (" + minThinkingTokens
                    + ") must not exceed maxThinkingTokens (" + maxThinkingTokens + ")");
        }
    }

    /** A builder with nothing set. */
    public static Builder builder() {
        return new Builder();
    }

    /** Every field at its default: chat prompt, {@value #DEFAULT_MAX_TOKENS} tokens, the model's sampling. */
    public static GenerationOptions defaults() {
        return DEFAULTS;
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxTokens = maxTokens;
        b.temperature = temperature;
        b.topK = topK;
        b.topP = topP;
        b.minP = minP;
        b.repetitionPenalty = repetitionPenalty;
        b.presencePenalty = presencePenalty;
        b.frequencyPenalty = frequencyPenalty;
        b.seed = seed;
        b.stopStrings = stopStrings;
        b.stopTokenIds = stopTokenIds;
        b.chat = chat;
        b.systemPrompt = systemPrompt;
        b.samples = samples;
        b.maxThinkingTokens = maxThinkingTokens;
        b.minThinkingTokens = minThinkingTokens;
        b.topLogprobs = topLogprobs;
        b.reasoningFormat = reasoningFormat;
        b.answerExtractor = answerExtractor;
        return b;
    }

    /** The most tokens to generate: as set, else {@value #DEFAULT_MAX_TOKENS}. */
    public int maxTokens() {
        return maxTokens != null ? maxTokens : DEFAULT_MAX_TOKENS;
    }

    /** True when {@link Builder#maxTokens(int)} was called. */
    public boolean hasMaxTokens() {
        return maxTokens != null;
    }

    /**
     * The most tokens to generate after a prompt of {@code promptTokens} in a context of {@code contextLength}:
     * as set (the caller reports when it does not fit), else {@value #DEFAULT_MAX_TOKENS} or what is left of
     * the context, whichever is less (at least 1), so that default options work on short-context models too.
     */
    public int maxTokens(int promptTokens, int contextLength) {
        return maxTokens != null ? maxTokens : Math.max(1, Math.min(DEFAULT_MAX_TOKENS, contextLength - promptTokens));
    }

    /** The temperature set here, or null (then from generation_config.json). */
    public Double temperature() {
        return temperature;
    }

    /** Top-k set here, or null. */
    public Integer topK() {
        return topK;
    }

    /** Top-p set here, or null. */
    public Double topP() {
        return topP;
    }

    /** Min-p set here, or null (then off). */
    public Double minP() {
        return minP;
    }

    /** Repetition penalty set here, or null. */
    public Double repetitionPenalty() {
        return repetitionPenalty;
    }

    /** Presence penalty set here, or null (then off). */
    public Double presencePenalty() {
        return presencePenalty;
    }

    /** Frequency penalty set here, or null (then off). */
    public Double frequencyPenalty() {
        return frequencyPenalty;
    }

    /** True when a seed was set, so that sampling repeats exactly. */
    public boolean hasSeed() {
        return seed != null;
    }

    /** The seed set here; when none was set, a fresh random seed on every call (so every generation differs). */
    public long seed() {
        return seed != null ? seed : ThreadLocalRandom.current().nextLong();
    }

    /** Strings that end the generation when they appear in the text; they are not part of the result. */
    public List<String> stopStrings() {
        return stopStrings;
    }

    /** Token ids set here, or null (then the model's eos ids). */
    public int[] stopTokenIds() {
        return stopTokenIds == null ? null : stopTokenIds.clone();
    }

    /** True (default): the prompt is formatted with the model's chat template; false: fed as is. */
    public boolean chat() {
        return chat;
    }

    /** A system message to put first, or null. */
    public String systemPrompt() {
        return systemPrompt;
    }

    /** Samples {@link Model#selfConsistency} draws and votes over (default 1). */
    public int samples() {
        return samples;
    }

    /** The most tokens the thinking may take before it is closed, or null for no limit. */
    public Integer maxThinkingTokens() {
        return maxThinkingTokens;
    }

    /** The fewest tokens the thinking takes: an earlier end of thinking becomes the format's continuation (0 = off). */
    public int minThinkingTokens() {
        return minThinkingTokens;
    }

    /**
     * -1 (the default): no log-probabilities; else every sampled token's log-probability and those of this many most
     * likely alternatives go to {@link GenerationListener#onLogprobs}.
     */
    public int topLogprobs() {
        return topLogprobs;
    }

    /** The reasoning markers set here, or null (then detected from the model's chat template and the prompt). */
    public ReasoningFormat reasoningFormat() {
        return reasoningFormat;
    }

    /** How {@link Model#selfConsistency} finds each sample's answer: as set, else {@link AnswerExtractor#defaults()}. */
    public AnswerExtractor answerExtractor() {
        return answerExtractor != null ? answerExtractor : AnswerExtractor.defaults();
    }

    /**
     * The sampler settings: the fields set here, else {@code defaults} (the model's generation_config.json),
     * else transformers' defaults.
     *
     * @throws IllegalArgumentException when a value from generation_config.json is out of range (names the field)
     */
    public SamplingParams samplingParams(GenerationDefaults defaults) {
        double t;
        if (temperature != null) {
            t = temperature;
        } else if (Boolean.TRUE.equals(defaults.doSample())) {
            t = defaults.temperature() != null ? defaults.temperature() : 1.0;
        } else {
            t = 0; // transformers: do_sample defaults to false, which is greedy
        }
        int k = topK != null ? topK : defaults.topK() != null ? defaults.topK() : TRANSFORMERS_DEFAULT_TOP_K;
        double p = topP != null ? topP : defaults.topP() != null ? defaults.topP() : 1.0;
        double repetition = repetitionPenalty != null ? repetitionPenalty
                : defaults.repetitionPenalty() != null ? defaults.repetitionPenalty() : 1.0;
        try {
            return new SamplingParams((float) t, k, (float) p, minP != null ? minP.floatValue() : 0f,
                    (float) repetition, presencePenalty != null ? presencePenalty.floatValue() : 0f,
                    frequencyPenalty != null ? frequencyPenalty.floatValue() : 0f);
        } catch (IllegalArgumentException e) {
            // Values set here were validated by the builder, so the bad one came from the model's file.
            throw new IllegalArgumentException(GenerationDefaults.FILE + ": " + e.getMessage(), e);
        }
    }

    /**
     * The token ids that end the generation: those set here, else generation_config.json's eos ids, else
     * config.json's {@code configEos}.
     */
    public int[] stopTokenIds(GenerationDefaults defaults, int[] configEos) {
        if (stopTokenIds != null) {
            return stopTokenIds.clone();
        }
        int[] fromGenerationConfig = defaults.eosTokenIds();
        return fromGenerationConfig.length > 0 ? fromGenerationConfig : configEos.clone();
    }

    @Override
    public String toString() {
        return "GenerationOptions[maxTokens=" + maxTokens + ", temperature=" + temperature + ", topK=" + topK
                + ", topP=" + topP + ", minP=" + minP + ", repetitionPenalty=" + repetitionPenalty
                + ", presencePenalty=" + presencePenalty + ", frequencyPenalty=" + frequencyPenalty
                + ", seed=" + seed + ", stopStrings=" + stopStrings + ", stopTokenIds="
                + (stopTokenIds == null ? null : Arrays.toString(stopTokenIds)) + ", chat=" + chat
                + ", systemPrompt=" + (systemPrompt == null ? null : '"' + systemPrompt + '"') + ", samples=" + samples
                + ", maxThinkingTokens=" + maxThinkingTokens + ", minThinkingTokens=" + minThinkingTokens
                + ", topLogprobs=" + topLogprobs
                + ", reasoningFormat=" + (reasoningFormat == null ? null : reasoningFormat.name()) + "]";
    }

    /** Builds {@link GenerationOptions}; every setter checks its value and names the field when it is wrong. */
    public static final class Builder {
        private Integer maxTokens;
        private Double temperature;
        private Integer topK;
        private Double topP;
        private Double minP;
        private Double repetitionPenalty;
        private Double presencePenalty;
        private Double frequencyPenalty;
        private Long seed;
        private List<String> stopStrings = List.of();
        private int[] stopTokenIds;
        private boolean chat = true;
        private String systemPrompt;
        private int samples = 1;
        private Integer maxThinkingTokens;
        private int minThinkingTokens;
        private int topLogprobs = -1;
        private ReasoningFormat reasoningFormat;
        private AnswerExtractor answerExtractor;

        private Builder() {
        }

        /** The most tokens to generate, ≥ 1. */
        public Builder maxTokens(int maxTokens) {
            if (maxTokens < 1) {
                throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
            }
            this.maxTokens = maxTokens;
            return this;
        }

        /** Divides the logits; 0 = greedy. In [0, {@link Float#MAX_VALUE}] (the sampler computes in float). */
        public Builder temperature(double temperature) {
            if (!(temperature >= 0 && temperature <= Float.MAX_VALUE)) {
                throw new IllegalArgumentException("temperature must be a number in [0, " + Float.MAX_VALUE
                        + "] (0 = greedy), got " + temperature);
            }
            this.temperature = temperature;
            return this;
        }

        /** Keep only the k most likely tokens; 0 = off. */
        public Builder topK(int topK) {
            if (topK < 0) {
                throw new IllegalArgumentException("topK must be >= 0 (0 = off), got " + topK);
            }
            this.topK = topK;
            return this;
        }

        /**
         * Nucleus sampling: keep the most likely tokens that together reach this probability; in (0, 1], 1 = off,
         * and at least {@link Float#MIN_VALUE} (smaller values are 0 as a float).
         */
        public Builder topP(double topP) {
            if (!(topP >= Float.MIN_VALUE && topP <= 1)) {
                throw new IllegalArgumentException("topP must be in [" + Float.MIN_VALUE + ", 1] (1 = off), got " + topP);
            }
            this.topP = topP;
            return this;
        }

        /** Drop tokens less likely than minP × the top token's probability; in [0, 1], 0 = off. */
        public Builder minP(double minP) {
            if (!(minP >= 0 && minP <= 1)) {
                throw new IllegalArgumentException("minP must be in [0, 1] (0 = off), got " + minP);
            }
            this.minP = minP;
            return this;
        }

        /**
         * transformers' repetition penalty over prompt and generated tokens; 1 = off. In [{@link Float#MIN_VALUE},
         * {@link Float#MAX_VALUE}]: greater than 0 and representable as a float.
         */
        public Builder repetitionPenalty(double repetitionPenalty) {
            if (!(repetitionPenalty >= Float.MIN_VALUE && repetitionPenalty <= Float.MAX_VALUE)) {
                throw new IllegalArgumentException("repetitionPenalty must be in [" + Float.MIN_VALUE + ", "
                        + Float.MAX_VALUE + "] (1 = off), got " + repetitionPenalty);
            }
            this.repetitionPenalty = repetitionPenalty;
            return this;
        }

        /** OpenAI's presence penalty over generated tokens; 0 = off (OpenAI allows -2..2); within float range. */
        public Builder presencePenalty(double presencePenalty) {
            if (!(Math.abs(presencePenalty) <= Float.MAX_VALUE)) {
                throw new IllegalArgumentException("presencePenalty must be in [-" + Float.MAX_VALUE + ", "
                        + Float.MAX_VALUE + "], got " + presencePenalty);
            }
            this.presencePenalty = presencePenalty;
            return this;
        }

        /** OpenAI's frequency penalty over generated tokens; 0 = off (OpenAI allows -2..2); within float range. */
        public Builder frequencyPenalty(double frequencyPenalty) {
            if (!(Math.abs(frequencyPenalty) <= Float.MAX_VALUE)) {
                throw new IllegalArgumentException("frequencyPenalty must be in [-" + Float.MAX_VALUE + ", "
                        + Float.MAX_VALUE + "], got " + frequencyPenalty);
            }
            this.frequencyPenalty = frequencyPenalty;
            return this;
        }

        /** Seed of the sampler: the same seed, prompt and options give the same text. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Stop when the text contains one of these (not included in the result). None may be empty. */
        public Builder stopStrings(List<String> stopStrings) {
            for (String s : stopStrings) {
                if (s == null || s.isEmpty()) {
                    throw new IllegalArgumentException("stopStrings must not contain null or empty strings");
                }
            }
            this.stopStrings = List.copyOf(stopStrings);
            return this;
        }

        /** Stop when the text contains one of these (not included in the result). None may be empty. */
        public Builder stopStrings(String... stopStrings) {
            return stopStrings(Arrays.asList(stopStrings));
        }

        /** Token ids that end the generation, replacing the model's eos ids. At least one, none negative. */
        public Builder stopTokenIds(int... stopTokenIds) {
            if (stopTokenIds.length == 0) {
                throw new IllegalArgumentException("stopTokenIds must not be empty (leave it unset for the model's eos ids)");
            }
            for (int id : stopTokenIds) {
                if (id < 0) {
                    throw new IllegalArgumentException("stopTokenIds must be >= 0, got " + id);
                }
            }
            this.stopTokenIds = stopTokenIds.clone();
            return this;
        }

        /** True (default): format the prompt with the model's chat template; false: feed it as is. */
        public Builder chat(boolean chat) {
            this.chat = chat;
            return this;
        }

        /** A system message to put before the conversation (chat prompts only); null = none. */
        public Builder systemPrompt(String systemPrompt) {
            this.systemPrompt = systemPrompt;
            return this;
        }

        /** Samples for {@link Model#selfConsistency}, ≥ 1 (default 1). */
        public Builder samples(int samples) {
            if (samples < 1) {
                throw new IllegalArgumentException("samples must be >= 1, got " + samples);
            }
            this.samples = samples;
            return this;
        }

        /**
         * A thinking budget: once the thinking has taken this many tokens, its end marker and the format's transition
         * are inserted and the model goes on to answer. ≥ 1.
         */
        public Builder maxThinkingTokens(int maxThinkingTokens) {
            if (maxThinkingTokens < 1) {
                throw new IllegalArgumentException("maxThinkingTokens must be >= 1, got " + maxThinkingTokens);
            }
            this.maxThinkingTokens = maxThinkingTokens;
            return this;
        }

        /**
         * While the thinking is shorter than this many tokens, an end-of-thinking token is replaced by the format's
         * continuation ("Wait"). ≥ 0, 0 = off; at most {@link #maxThinkingTokens(int)}.
         */
        public Builder minThinkingTokens(int minThinkingTokens) {
            if (minThinkingTokens < 0) {
                throw new IllegalArgumentException("minThinkingTokens must be >= 0, got " + minThinkingTokens);
            }
            this.minThinkingTokens = minThinkingTokens;
            return this;
        }

        /**
         * Reports each sampled token's log-probability under the model (before penalties, temperature and filters,
         * as vLLM does by default) with its {@code top} most likely alternatives, {@code top} in [0, 20]; -1 (the
         * default) reports none.
         */
        public Builder logprobs(int top) {
            if (top < -1 || top > MAX_TOP_LOGPROBS) {
                throw new IllegalArgumentException("top logprobs must be in [-1, " + MAX_TOP_LOGPROBS + "], got " + top);
            }
            this.topLogprobs = top;
            return this;
        }

        /** The reasoning markers to split the output by; null (default) detects them from the chat template. */
        public Builder reasoningFormat(ReasoningFormat reasoningFormat) {
            this.reasoningFormat = reasoningFormat;
            return this;
        }

        /** How self-consistency finds each sample's answer; null (default) is {@link AnswerExtractor#defaults()}. */
        public Builder answerExtractor(AnswerExtractor answerExtractor) {
            this.answerExtractor = answerExtractor;
            return this;
        }

        /** @throws IllegalArgumentException when minThinkingTokens exceeds maxThinkingTokens */
        public GenerationOptions build() {
            return new GenerationOptions(this);
        }
    }
}
