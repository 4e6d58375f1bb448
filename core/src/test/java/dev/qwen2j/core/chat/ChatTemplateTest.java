package dev.qwen2j.core.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatTemplateTest {

    @TempDir
    Path folder;

    private static List<Map<String, Object>> userSays(String text) {
        return List.of(Map.of("role", "user", "content", text));
    }

    private static String render(String template, List<Map<String, Object>> messages) {
        return ChatTemplate.of(template, Map.of()).render(messages, null, true, null);
    }

    @Test
    void folderWithoutTemplateFallsBackToChatML() throws IOException {
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|im_end|>\"}");
        ChatTemplate template = ChatTemplate.load(folder);
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                template.render(List.of(Map.of("role", "system", "content", "Be brief."),
                        Map.of("role", "user", "content", "Hi")), null, true, null));
        assertEquals("<|im_start|>user\nHi<|im_end|>\n", template.render(userSays("Hi"), null, false, null));
    }

    /** llama.cpp's tests/test-chat-template.cpp publishes this rendering of the ChatML template (OpenHermes-2.5). */
    @Test
    void chatMLFallbackMatchesLlamaCppsPublishedRendering() throws IOException {
        List<Map<String, Object>> conversation = List.of(
                Map.of("role", "system", "content", "You are a helpful assistant"),
                Map.of("role", "user", "content", "Hello"),
                Map.of("role", "assistant", "content", "Hi there"),
                Map.of("role", "user", "content", "Who are you"),
                Map.of("role", "assistant", "content", "   I am an assistant   "),
                Map.of("role", "user", "content", "Another question"));
        assertEquals("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
                        + "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n"
                        + "<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n"
                        + "<|im_start|>assistant\n",
                ChatTemplate.load(folder).render(conversation, null, true, null));
    }

    @Test
    void folderWithoutAnyConfigFallsBackToChatML() throws IOException {
        assertEquals("<|im_start|>user\nHi<|im_end|>\n",
                ChatTemplate.load(folder).render(userSays("Hi"), null, false, null));
    }

    @Test
    void loadsTemplateAndAddedTokenSpecialTokensFromTokenizerConfig() throws IOException {
        Files.writeString(folder.resolve("tokenizer_config.json"), """
                {"bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
                 "eos_token": "</s>",
                 "chat_template": "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{{ eos_token }}{% endfor %}"}
                """);
        assertEquals("<s>[user]Hi</s>", ChatTemplate.load(folder).render(userSays("Hi"), null, true, null));
    }

    @Test
    void namedTemplateListPicksDefault() throws IOException {
        Files.writeString(folder.resolve("tokenizer_config.json"), """
                {"chat_template": [{"name": "tool_use", "template": "TOOLS"}, {"name": "default", "template": "DEFAULT {{ messages|length }}"}]}
                """);
        ChatTemplate template = ChatTemplate.load(folder);
        assertEquals("DEFAULT 1", template.render(userSays("Hi"), null, true, null));
        // transformers takes "tool_use" when tools are passed and the list has one
        assertEquals("TOOLS", template.render(userSays("Hi"), List.of(Map.of("type", "function")), true, null));
    }

    @Test
    void rawBlocksAreLeftAlone() {
        assertEquals("{{ x[::-1] }} {% if not a is defined %}|cba",
                render("{% raw %}{{ x[::-1] }} {% if not a is defined %}{% endraw %}|{{ 'abc'[::-1] }}", userSays("x")));
    }

    @Test
    void rendersConcurrently() throws Exception {
        ChatTemplate template = ChatTemplate.of("{% for m in messages[::-1] %}{{ m.content.upper() }}{% endfor %}", Map.of());
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
            List<java.util.concurrent.Future<String>> results = new java.util.ArrayList<>();
            for (int i = 0; i < 64; i++) {
                String a = "a" + i, b = "b" + i;
                results.add(pool.submit(() -> template.render(List.of(Map.of("role", "user", "content", a),
                        Map.of("role", "assistant", "content", b)), null, true, null)));
            }
            for (int i = 0; i < 64; i++) {
                assertEquals("B" + i + "A" + i, results.get(i).get());
            }
        }
    }

    @Test
    void chatTemplateJinjaFileWins() throws IOException {
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"chat_template\": \"OLD\"}");
        Files.writeString(folder.resolve("chat_template.jinja"), "NEW {{ messages[0].content }}\n");
        assertEquals("NEW Hi", ChatTemplate.load(folder).render(userSays("Hi"), null, true, null));
    }

    @Test
    void malformedConfigNamesTheFile() throws IOException {
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"chat_template\": ");
        IOException e = assertThrows(IOException.class, () -> ChatTemplate.load(folder));
        assertTrue(e.getMessage().contains("tokenizer_config.json"), e.getMessage());
    }

    @Test
    void raiseExceptionCarriesTheTemplatesMessage() {
        String template = "{% if messages[0].role != 'user' %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}ok";
        assertEquals("ok", render(template, userSays("Hi")));
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> render(template, List.of(Map.of("role", "assistant", "content", "x"))));
        assertEquals("Conversation roles must alternate user/assistant/user/assistant/...", e.getMessage());
    }

    @Test
    void syntaxErrorIsAChatTemplateException() {
        assertThrows(ChatTemplateException.class, () -> render("{% for m in messages %}", userSays("Hi")));
    }

    @Test
    void extraVariablesReachTheTemplate() {
        ChatTemplate t = ChatTemplate.of("{% if enable_thinking is defined and enable_thinking is false %}off{% else %}on{% endif %}", Map.of());
        assertEquals("off", t.render(userSays("x"), null, true, Map.of("enable_thinking", false)));
        assertEquals("on", t.render(userSays("x"), null, true, Map.of("enable_thinking", true)));
        assertEquals("on", t.render(userSays("x"), null, true, null));
    }

    @Test
    void notBindsLooserThanTests() {
        // Jinja2: "not x is defined" is "not (x is defined)"; DeepSeek-R1's template starts with it.
        String t = "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
                + "{{ 'yes' if add_generation_prompt else 'no' }}|{{ 'u' if not nothing is defined else 'd' }}"
                + "|{{ 'n' if not messages[0].content is none else 'none' }}";
        assertEquals("yes|u|n", render(t, userSays("x")));
    }

    @Test
    void messageTextIsNeverInterpretedAsTemplate() {
        assertEquals("{{ 7 * 7 }} {% if true %}", render("{{ messages[0].content }}", userSays("{{ 7 * 7 }} {% if true %}")));
    }

    @Test
    void pythonStringMethodsAndSlices() {
        String content = "<think>\nreason\n</think>\n\nanswer";
        List<Map<String, Object>> m = userSays(content);
        assertEquals("answer", render("{{ messages[0].content.split('</think>')[-1].lstrip('\\n') }}", m));
        assertEquals("reason", render("{{ messages[0].content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].strip('\\n') }}", m));
        assertEquals("True|False", render("{{ 'True' if messages[0].content.startswith('<think>') else 'False' }}|{{ 'True' if messages[0].content.endswith('x') else 'False' }}", m));
        assertEquals("cba", render("{{ 'abc'[::-1] }}", m));
        assertEquals("ac", render("{{ 'abc'[::2] }}", m));
        assertEquals("b", render("{{ 'abc'[1] }}|{{ 'abc'[-1] }}", m).substring(0, 1));
        assertEquals("c", render("{{ 'abc'[-1] }}", m));
        assertEquals("A B", render("{{ 'a b'.upper() }}", m));
        assertEquals("x-y-z", render("{{ '-'.join(['x', 'y', 'z']) }}", m));
        assertEquals("a,b", render("{{ ' a  b '.split()|join(',') }}", m));
        assertEquals("a|b,c", render("{% set p = 'a,b,c'.split(',', 1) %}{{ p[0] }}|{{ p[1] }}", m));
        assertEquals("a,b|c", render("{% set p = 'a,b,c'.rsplit(',', 1) %}{{ p[0] }}|{{ p[1] }}", m));
        assertEquals("x_y", render("{{ 'x y'.replace(' ', '_') }}", m));
    }

    @Test
    void reversedMessagesAndNamespaceWithFilteredKeywordValue() {
        List<Map<String, Object>> m = List.of(Map.of("role", "user", "content", "a"),
                Map.of("role", "assistant", "content", "b"), Map.of("role", "user", "content", "c"));
        String template = "{% set ns = namespace(last=messages|length - 1, seen='') %}"
                + "{% for message in messages[::-1] %}{% set ns.seen = ns.seen + message.content %}{% endfor %}"
                + "{{ ns.last }} {{ ns.seen }} {{ messages[::-1][0].content }} {{ (messages|reverse|list)[0].role }}";
        assertEquals("2 cba c user", render(template, m));
    }

    @Test
    void trimBlocksAndLstripBlocksAsJinja2() {
        String template = """
                {%- for message in messages %}
                    {%- if message.role == 'user' %}
                        {{- 'U:' + message.content }}
                    {%- endif %}
                {% endfor %}
                  {% if add_generation_prompt %}
                A:
                  {% endif %}
                """;
        // What Jinja2 3.1 (trim_blocks, lstrip_blocks) renders: the "{% endfor %}\n" line leaves nothing,
        // the indented if-tags vanish with their newlines, "A:\n" stays; the final newline of the source is dropped.
        assertEquals("U:hiA:\n", render(template, userSays("hi")));
    }

    @Test
    void toJsonMatchesPythonJsonDumps() {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("city", "Zürich \"Z\"\n");
        args.put("n", 3);
        args.put("x", 0.00001);
        args.put("y", 2.0);
        args.put("big", 1e16);
        args.put("ok", true);
        args.put("none", null);
        args.put("list", List.of(1, "a", List.of()));
        args.put("empty", Map.of());
        List<Map<String, Object>> m = List.of(Map.of("role", "user", "content", "x", "args", args));
        assertEquals("{\"city\": \"Zürich \\\"Z\\\"\\n\", \"n\": 3, \"x\": 1e-05, \"y\": 2.0, \"big\": 1e+16, \"ok\": true, "
                + "\"none\": null, \"list\": [1, \"a\", []], \"empty\": {}}", render("{{ messages[0].args | tojson }}", m));
        assertEquals("{\n  \"a\": [\n    1,\n    2\n  ]\n}", render("{{ {'a': [1, 2]} | tojson(indent=2) }}", m));
    }

    @Test
    void errorsNameTheTemplateFileTheLineAndJinja2sErrorClass() throws IOException {
        Files.writeString(folder.resolve("chat_template.jinja"), "{{ bos_token }}\n{% for m in messages %}{{ m.content + 1 }}{% endfor %}");
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.load(folder).render(userSays("Hi"), null, true, null));
        assertTrue(e.getMessage().contains("chat_template.jinja, line 2: TypeError: can only concatenate str (not \"int\") to str"),
                e.getMessage());
        assertEquals(2, e.line());

        Files.writeString(folder.resolve("chat_template.jinja"), "ok\n{% endfor %}");
        e = assertThrows(ChatTemplateException.class, () -> ChatTemplate.load(folder).render(userSays("Hi"), null, true, null));
        assertTrue(e.getMessage().contains("line 2: TemplateSyntaxError: Encountered unknown tag 'endfor'."), e.getMessage());
    }
}
