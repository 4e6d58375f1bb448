package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.model.FinishReason;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.GenerationResult;
import dev.qwen2j.model.Model;
import dev.qwen2j.model.ModelOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The end-to-end check: the demo model (trained to add step by step) must answer 100 random sums right when
 * decoded greedily. Tokenizer, chat template, weights, every kernel, the KV cache and the sampler all have to
 * be right for that, since the model only learned the task, not any tolerance for a broken stack.
 */
class DemoModelAdditionTest {

    @TempDir
    static Path cache;

    @Test
    void answersOneHundredRandomSumsCorrectly() throws Exception {
        Random random = new Random(20260611);
        GenerationOptions options = GenerationOptions.builder().temperature(0).maxTokens(96).build();
        List<String> wrong = new ArrayList<>();
        try (Model model = Model.load(DemoModel.unpackInto(cache))) {
            for (int i = 0; i < 100; i++) {
                int a = random.nextInt(10_000);
                int b = random.nextInt(10_000);
                GenerationResult result = model.generate("What is " + a + "+" + b + "?", options, text -> { });
                String text = result.text();
                int think = text.indexOf("</think>");
                String answer = think < 0 ? "" : text.substring(think + "</think>".length()).strip();
                if (!answer.equals(String.valueOf(a + b)) || result.finishReason() != FinishReason.EOS) {
                    wrong.add(a + "+" + b + " → " + text.replace("\n", "\\n") + " (" + result.finishReason() + ")");
                }
            }
        }
        assertTrue(wrong.isEmpty(), wrong.size() + " wrong:\n" + String.join("\n", wrong));
    }

    /** The compressed KV caches must not cost the demo model a single sum (30 each, to keep CI short). */
    @ParameterizedTest(name = "{0} KV cache")
    @ValueSource(strings = {"BF16", "I8"})
    void answersSumsWithACompressedKvCache(String kvCache) throws Exception {
        Random random = new Random(20261201);
        GenerationOptions options = GenerationOptions.builder().temperature(0).maxTokens(96).build();
        ModelOptions modelOptions = ModelOptions.builder().kvCacheType(DType.valueOf(kvCache)).build();
        List<String> wrong = new ArrayList<>();
        try (Model model = Model.load(DemoModel.unpackInto(cache), modelOptions)) {
            for (int i = 0; i < 30; i++) {
                int a = random.nextInt(10_000);
                int b = random.nextInt(10_000);
                String text = model.generate("What is " + a + "+" + b + "?", options, t -> { }).text();
                int think = text.indexOf("</think>");
                if (think < 0 || !text.substring(think + "</think>".length()).strip().equals(String.valueOf(a + b))) {
                    wrong.add(a + "+" + b + " → " + text.replace("\n", "\\n"));
                }
            }
        }
        assertTrue(wrong.isEmpty(), wrong.size() + " wrong:\n" + String.join("\n", wrong));
    }

    @Test
    void theReadmeExampleThinksThenAnswers837() throws Exception {
        try (Model model = Model.load(DemoModel.unpackInto(cache))) {
            String text = model.generate("What is 358+479?");
            assertEquals("<think>\n8+9=17\n5+7+1=13\n3+4+1=8\n</think>\n\n837", text);
        }
    }
}
