package dev.qwen2j.core.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Renders every case of the parity fixtures (test resources next to this class) and compares with the
 * expected string, which came from Hugging Face's own rendering semantics: published outputs, or Jinja2
 * configured as transformers configures it (render_reference.py). Each fixture names its sources.
 */
class ChatTemplateParityTest {

    static final List<String> FIXTURES = List.of(
            "qwen3.json", "qwen2.5-instruct.json", "qwq-32b-preview.json",
            "deepseek-r1-distill-qwen.json", "deepseek-r1-distill-qwen-think.json");

    @TestFactory
    Stream<DynamicTest> fixturesRenderAsHuggingFaceDoes() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : FIXTURES) {
            Map<String, Object> fixture = readFixture(name);
            @SuppressWarnings("unchecked")
            ChatTemplate template = ChatTemplate.of((String) fixture.get("chat_template"),
                    (Map<String, Object>) fixture.get("special_tokens"));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> cases = (List<Map<String, Object>>) fixture.get("cases");
            for (Map<String, Object> c : cases) {
                tests.add(DynamicTest.dynamicTest(name + " / " + c.get("name"), () -> assertEquals(
                        c.get("expected"), render(template, c), "case " + c.get("name") + " of " + name)));
            }
        }
        return tests.stream();
    }

    @SuppressWarnings("unchecked")
    static String render(ChatTemplate template, Map<String, Object> c) {
        return template.render((List<Map<String, Object>>) c.get("messages"),
                (List<Map<String, Object>>) c.get("tools"), (Boolean) c.get("add_generation_prompt"),
                (Map<String, Object>) c.get("extra"));
    }

    static Map<String, Object> readFixture(String name) throws IOException {
        try (InputStream in = ChatTemplateParityTest.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("missing test resource " + name);
            }
            return new ObjectMapper().readValue(in, new TypeReference<>() {
            });
        }
    }
}
