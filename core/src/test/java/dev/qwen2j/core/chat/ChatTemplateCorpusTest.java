package dev.qwen2j.core.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The corpus in corpus/ (test resources): real model templates times conversations, and Jinja syntax cases,
 * each with what Python's Jinja2 rendered under transformers' settings (scripts/chat-template-fixtures.py), an
 * output or an error. An output must match byte for byte; an error must be an error here too.
 */
class ChatTemplateCorpusTest {

    /** The instant scripts/chat-template-fixtures.py gives strftime_now. */
    static final LocalDateTime FIXED_NOW = LocalDateTime.of(2025, 7, 10, 12, 0, 0);

    /**
     * Syntax cases rendered differently on purpose or by a known limit, each with the reason in README.md
     * ("Chat templates"): printing objects whose Python spelling carries a memory address.
     */
    static final Set<String> KNOWN_DIFFERENCES = Set.of("qwen2j/variables_subscript");

    @SuppressWarnings("unchecked")
    static Map<String, Object> read(String name) throws IOException {
        try (InputStream in = ChatTemplateCorpusTest.class.getResourceAsStream("corpus/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource corpus/" + name);
            }
            return new ObjectMapper().readValue(in, new TypeReference<>() {
            });
        }
    }

    static void assertSameOutcome(Map<String, Object> expected, java.util.function.Supplier<String> render, String what) {
        String got;
        try {
            got = render.get();
        } catch (ChatTemplateException e) {
            if (!expected.containsKey("error")) {
                fail(what + ": Jinja2 renders it, but here: " + e.getMessage());
            }
            if ("TemplateError".equals(expected.get("error_type"))) {
                assertEquals(expected.get("error"), e.getMessage(), what + ": the template's own raise_exception message");
            }
            return;
        }
        if (expected.containsKey("error")) {
            fail(what + ": Jinja2 fails with " + expected.get("error_type") + ": " + expected.get("error")
                    + ", but here it renders " + got);
        }
        assertEquals(expected.get("output"), got, what);
    }

    @SuppressWarnings("unchecked")
    @TestFactory
    Stream<DynamicTest> realTemplatesRenderAsJinja2Does() throws IOException {
        Map<String, Object> corpus = read("real-templates.json");
        List<Map<String, Object>> conversations = (List<Map<String, Object>>) corpus.get("conversations");
        List<DynamicTest> tests = new ArrayList<>();
        for (Map<String, Object> t : (List<Map<String, Object>>) corpus.get("templates")) {
            ChatTemplate template = ChatTemplate.of((String) t.get("template"), (Map<String, Object>) t.get("special_tokens"))
                    .withClock(() -> FIXED_NOW);
            Map<String, Object> expected = (Map<String, Object>) t.get("expected");
            for (Map<String, Object> c : conversations) {
                String what = t.get("name") + " / " + c.get("name");
                tests.add(DynamicTest.dynamicTest(what, () -> assertSameOutcome(
                        (Map<String, Object>) expected.get(c.get("name")), () -> renderConversation(template, c), what)));
            }
            List<Map<String, Object>> contexts = (List<Map<String, Object>>) t.get("contexts");
            List<Map<String, Object>> expectedContexts = (List<Map<String, Object>>) t.get("expected_contexts");
            for (int i = 0; i < contexts.size(); i++) {
                Map<String, Object> context = contexts.get(i);
                Map<String, Object> e = expectedContexts.get(i);
                String what = t.get("name") + " / own context " + i;
                ChatTemplate plain = ChatTemplate.of((String) t.get("template"), Map.of()).withClock(() -> FIXED_NOW);
                tests.add(DynamicTest.dynamicTest(what, () -> assertSameOutcome(e, () -> plain.renderVariables(context), what)));
            }
        }
        return tests.stream();
    }

    @SuppressWarnings("unchecked")
    static String renderConversation(ChatTemplate template, Map<String, Object> c) {
        Map<String, Object> extra = new java.util.LinkedHashMap<>();
        if (c.get("extra") != null) {
            extra.putAll((Map<String, Object>) c.get("extra"));
        }
        extra.put("documents", c.get("documents"));
        return template.render((List<Map<String, Object>>) c.get("messages"), (List<Map<String, Object>>) c.get("tools"),
                (Boolean) c.get("add_generation_prompt"), extra);
    }

    @SuppressWarnings("unchecked")
    @Test
    void syntaxCorpusRendersAsJinja2Does() throws IOException {
        List<Map<String, Object>> cases = (List<Map<String, Object>>) read("syntax.json").get("cases");
        List<String> failures = new ArrayList<>();
        int exact = 0;
        for (Map<String, Object> c : cases) {
            String name = (String) c.get("name");
            try {
                ChatTemplate template = ChatTemplate.of((String) c.get("template"), Map.of()).withClock(() -> FIXED_NOW);
                assertSameOutcome((Map<String, Object>) c.get("expected"),
                        () -> template.renderVariables((Map<String, Object>) c.get("context")), name);
                exact++;
                assertTrue(!KNOWN_DIFFERENCES.contains(name), name + " is listed as a known difference but matches");
            } catch (AssertionError e) {
                if (!KNOWN_DIFFERENCES.contains(name)) {
                    failures.add(e.getMessage());
                }
            }
        }
        double share = 100.0 * exact / cases.size();
        System.out.printf("syntax corpus: %d of %d exact (%.1f%%)%n", exact, cases.size(), share);
        assertTrue(failures.isEmpty(), failures.size() + " unexpected differences:\n" + String.join("\n", failures));
        assertTrue(share >= 98, "syntax corpus " + share + "% exact");
    }
}
