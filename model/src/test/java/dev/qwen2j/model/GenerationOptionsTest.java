package dev.qwen2j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.config.GenerationDefaults;
import dev.qwen2j.core.sampling.SamplingParams;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class GenerationOptionsTest {

    /** Qwen2.5-Instruct's generation_config.json. */
    private static final GenerationDefaults QWEN25 =
            new GenerationDefaults(0.7, 0.8, 20, 1.05, true, new int[] {151645, 151643});
    /** The demo model's: greedy. */
    private static final GenerationDefaults GREEDY_MODEL =
            new GenerationDefaults(null, null, null, null, false, new int[] {151645, 151643});
    private static final GenerationDefaults NONE = new GenerationDefaults(null, null, null, null, null, new int[0]);

    @Test
    void defaults() {
        GenerationOptions options = GenerationOptions.defaults();
        assertEquals(GenerationOptions.DEFAULT_MAX_TOKENS, options.maxTokens());
        assertTrue(options.chat());
        assertNull(options.systemPrompt());
        assertEquals(List.of(), options.stopStrings());
        assertNull(options.stopTokenIds());
        assertFalse(options.hasSeed());
        assertNull(options.temperature());
    }

    @Test
    void defaultMaxTokensFitTheContextButExplicitOnesAreKept() {
        GenerationOptions defaults = GenerationOptions.defaults();
        assertFalse(defaults.hasMaxTokens());
        assertEquals(GenerationOptions.DEFAULT_MAX_TOKENS, defaults.maxTokens(10, 32768));
        assertEquals(502, defaults.maxTokens(10, 512));
        assertEquals(1, defaults.maxTokens(600, 512));
        GenerationOptions explicit = GenerationOptions.builder().maxTokens(1000).build();
        assertTrue(explicit.hasMaxTokens());
        assertEquals(1000, explicit.maxTokens(10, 512));
    }

    @Test
    void unsetSamplingFieldsComeFromGenerationConfig() {
        assertEquals(new SamplingParams(0.7f, 20, 0.8f, 0f, 1.05f, 0f, 0f),
                GenerationOptions.defaults().samplingParams(QWEN25));
        SamplingParams mixed = GenerationOptions.builder().temperature(0.3).topK(0).minP(0.05).presencePenalty(0.5)
                .build().samplingParams(QWEN25);
        assertEquals(new SamplingParams(0.3f, 0, 0.8f, 0.05f, 1.05f, 0.5f, 0f), mixed);
    }

    @Test
    void withoutDoSampleTheModelDecodesGreedilyAsTransformersDoes() {
        assertTrue(GenerationOptions.defaults().samplingParams(GREEDY_MODEL).isGreedy());
        assertTrue(GenerationOptions.defaults().samplingParams(NONE).isGreedy());
        assertTrue(GenerationOptions.builder().temperature(0).build().samplingParams(QWEN25).isGreedy());
        // an explicit temperature samples, with transformers' top-k 50 when nothing else says otherwise
        assertEquals(new SamplingParams(1f, 50, 1f, 0f, 1f, 0f, 0f),
                GenerationOptions.builder().temperature(1).build().samplingParams(NONE));
    }

    @Test
    void badValuesInGenerationConfigNameFileAndField() {
        var broken = new GenerationDefaults(0.7, 1.5, null, null, true, new int[0]);
        var error = assertThrows(IllegalArgumentException.class,
                () -> GenerationOptions.defaults().samplingParams(broken));
        assertTrue(error.getMessage().contains("generation_config.json") && error.getMessage().contains("topP"),
                error.getMessage());
    }

    @Test
    void stopTokenIdsFallBackFromOptionsToGenerationConfigToConfig() {
        int[] configEos = {151643};
        assertArrayEquals(new int[] {7}, GenerationOptions.builder().stopTokenIds(7).build()
                .stopTokenIds(QWEN25, configEos));
        assertArrayEquals(new int[] {151645, 151643}, GenerationOptions.defaults().stopTokenIds(QWEN25, configEos));
        assertArrayEquals(configEos, GenerationOptions.defaults().stopTokenIds(NONE, configEos));
    }

    @Test
    void seedIsFixedWhenSetAndFreshWhenNot() {
        GenerationOptions seeded = GenerationOptions.builder().seed(42).build();
        assertTrue(seeded.hasSeed());
        assertEquals(42, seeded.seed());
        GenerationOptions unseeded = GenerationOptions.defaults();
        assertTrue(unseeded.seed() != unseeded.seed() || unseeded.seed() != unseeded.seed());
    }

    @Test
    void toBuilderCopiesEverything() {
        GenerationOptions a = GenerationOptions.builder().maxTokens(9).temperature(0.5).topK(3).topP(0.5).minP(0.1)
                .repetitionPenalty(1.2).presencePenalty(0.1).frequencyPenalty(0.2).seed(5).stopStrings("x")
                .stopTokenIds(1, 2).chat(false).systemPrompt("s").build();
        assertEquals(a.toString(), a.toBuilder().build().toString());
        assertEquals(10, a.toBuilder().maxTokens(10).build().maxTokens());
        assertEquals(9, a.maxTokens());
    }

    @Test
    void invalidValuesNameTheField() {
        assertField("maxTokens", () -> GenerationOptions.builder().maxTokens(0));
        assertField("temperature", () -> GenerationOptions.builder().temperature(-0.1));
        assertField("temperature", () -> GenerationOptions.builder().temperature(Double.NaN));
        assertField("topK", () -> GenerationOptions.builder().topK(-1));
        assertField("topP", () -> GenerationOptions.builder().topP(0));
        assertField("topP", () -> GenerationOptions.builder().topP(1.01));
        assertField("minP", () -> GenerationOptions.builder().minP(2));
        assertField("repetitionPenalty", () -> GenerationOptions.builder().repetitionPenalty(0));
        assertField("presencePenalty", () -> GenerationOptions.builder().presencePenalty(Double.POSITIVE_INFINITY));
        assertField("frequencyPenalty", () -> GenerationOptions.builder().frequencyPenalty(Double.NaN));
        assertField("stopStrings", () -> GenerationOptions.builder().stopStrings("ok", ""));
        assertField("stopTokenIds", () -> GenerationOptions.builder().stopTokenIds());
        assertField("stopTokenIds", () -> GenerationOptions.builder().stopTokenIds(-3));
    }

    @Test
    void valuesBeyondFloatRangeFailInTheBuilderWithTheRange() {
        // Valid as doubles, but 0 or infinite as the floats the sampler uses: they must fail here, naming the
        // option, not later as if generation_config.json were wrong.
        assertField("temperature", () -> GenerationOptions.builder().temperature(1e39));
        assertField("topP", () -> GenerationOptions.builder().topP(1e-50));
        assertField("repetitionPenalty", () -> GenerationOptions.builder().repetitionPenalty(1e308));
        assertField("repetitionPenalty", () -> GenerationOptions.builder().repetitionPenalty(1e-50));
        assertField("presencePenalty", () -> GenerationOptions.builder().presencePenalty(-1e39));
        assertField("frequencyPenalty", () -> GenerationOptions.builder().frequencyPenalty(1e39));
        var error = assertThrows(IllegalArgumentException.class, () -> GenerationOptions.builder().temperature(1e39));
        assertTrue(error.getMessage().contains("[0, " + Float.MAX_VALUE + "]"), error.getMessage());
        // The edges themselves are accepted and reach the sampler intact.
        GenerationOptions edges = GenerationOptions.builder().temperature(Float.MAX_VALUE).topP(Float.MIN_VALUE)
                .repetitionPenalty(Float.MIN_VALUE).build();
        assertEquals(Float.MIN_VALUE, edges.samplingParams(QWEN25).topP());
    }

    @Test
    void threadsAreBoundedByTheCores() {
        int max = ModelOptions.maxThreads();
        assertEquals(ModelOptions.THREADS_PER_CORE * Runtime.getRuntime().availableProcessors(), max);
        assertEquals(max, ModelOptions.builder().threads(max).build().threads());
        for (int threads : new int[] {max + 1, 50_000, Integer.MAX_VALUE, -1}) {
            var error = assertThrows(IllegalArgumentException.class, () -> ModelOptions.builder().threads(threads).build());
            assertTrue(error.getMessage().startsWith("threads must be in [0, " + max + "]"), error.getMessage());
        }
    }

    private static void assertField(String field, Executable executable) {
        var error = assertThrows(IllegalArgumentException.class, executable);
        assertTrue(error.getMessage().startsWith(field + " "), error.getMessage());
    }

    @Test
    void messagesBecomeTemplateMapsWithTransformersKeys() {
        assertEquals(Map.of("role", "user", "content", "hi"), Message.user("hi").toTemplateMap());
        assertEquals(Map.of("role", "assistant", "content", "4", "reasoning_content", "2+2"),
                Message.assistant("4", "2+2").toTemplateMap());
        assertEquals("system", Message.system("s").role());
        assertThrows(IllegalArgumentException.class, () -> new Message(" ", "x", null, null));
    }
}
