package dev.qwen2j.core.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class SystemPromptsTest {

    @Test
    void namesAreTheThreePresets() {
        assertEquals(List.of("sky-t1", "qwq", "qwen2.5"), List.copyOf(SystemPrompts.names()));
    }

    @Test
    void qwenDefaultsAreTheOnesInTheModelsOwnTemplates() throws IOException {
        String qwen25 = (String) ChatTemplateParityTest.readFixture("qwen2.5-instruct.json").get("chat_template");
        assertTrue(qwen25.contains("'<|im_start|>system\\n" + SystemPrompts.named("qwen2.5") + "<|im_end|>\\n'"));
        String qwq = (String) ChatTemplateParityTest.readFixture("qwq-32b-preview.json").get("chat_template");
        assertTrue(qwq.contains("'<|im_start|>system\\n" + SystemPrompts.named("qwq") + "<|im_end|>\\n'"));
    }

    @Test
    void skyT1IsTheSkyThoughtPromptWithItsTwoNewlines() {
        String sky = SystemPrompts.named("sky-t1");
        // Length of the YAML-parsed system_prompts.skythought value (computed with PyYAML 6.0.3).
        assertEquals(1310, sky.length());
        assertTrue(sky.startsWith("Your role as an assistant involves thoroughly exploring questions through a systematic long thinking process"));
        assertTrue(sky.contains("{thought with steps separated with '\n\n'} <|end_of_thought|>"));
        assertTrue(sky.endsWith("Now, try to solve the following question through the above guidelines:"));
        assertTrue(!sky.contains("  "), "no runs of spaces");
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SystemPrompts.named("o1"));
        assertTrue(e.getMessage().contains("sky-t1"), e.getMessage());
    }
}
