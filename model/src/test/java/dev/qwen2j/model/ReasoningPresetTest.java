package dev.qwen2j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.chat.ReasoningFormat;
import dev.qwen2j.core.chat.SystemPrompts;
import dev.qwen2j.core.config.GenerationDefaults;
import dev.qwen2j.core.sampling.SamplingParams;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ReasoningPresetTest {

    @Test
    void presetsCarryThePublishedSettings() {
        GenerationOptions r1 = ReasoningPreset.named("r1-distill").applyTo(GenerationOptions.defaults());
        assertEquals(0.6, r1.temperature());
        assertEquals(0.95, r1.topP());
        assertEquals(null, r1.systemPrompt());
        assertEquals(ReasoningFormat.THINK, r1.reasoningFormat());

        GenerationOptions sky = ReasoningPreset.named("sky-t1").applyTo(GenerationOptions.defaults());
        assertEquals(SystemPrompts.named("sky-t1"), sky.systemPrompt());
        assertEquals(ReasoningFormat.SKY_T1, sky.reasoningFormat());
        assertTrue(sky.samplingParams(GenerationDefaults.none()).isGreedy());

        SamplingParams qwq = ReasoningPreset.QWQ.applyTo(GenerationOptions.defaults()).samplingParams(GenerationDefaults.none());
        assertEquals(40, qwq.topK());
        assertEquals(0.6f, qwq.temperature());
    }

    @Test
    void whatTheCallerSetWins() {
        GenerationOptions mine = GenerationOptions.builder().temperature(1.2).systemPrompt("be brief").build();
        GenerationOptions applied = ReasoningPreset.SKY_T1.applyTo(mine);
        assertEquals(1.2, applied.temperature());
        assertEquals("be brief", applied.systemPrompt());
        assertEquals(1.0, applied.topP());
    }

    @Test
    void detectedFromTheTemplateOrNamed() {
        assertEquals(Optional.of(ReasoningPreset.R1_DISTILL),
                ReasoningPreset.detect("{{'<｜Assistant｜><think>\\n'}}"));
        assertEquals(Optional.of(ReasoningPreset.QWQ),
                ReasoningPreset.detect("{{- '<|im_start|>assistant\\n<think>\\n' }}"));
        assertEquals(Optional.empty(), ReasoningPreset.detect("{{- '<|im_start|>assistant\\n' }}"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReasoningPreset.named("o1"));
        assertTrue(e.getMessage().contains("r1-distill"), e.getMessage());
    }
}
