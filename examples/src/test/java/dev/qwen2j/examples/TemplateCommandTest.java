package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.checkpoint.BundledTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The expected prompts are the Qwen3 template's renderings by Jinja2 configured as transformers (the same
 * cases as core's chat fixture qwen3.json: system_and_several_turns_ending_with_assistant,
 * enable_thinking_false, tool_definitions_with_system).
 */
class TemplateCommandTest {

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void writeModelFolder() throws IOException {
        model = Files.createDirectories(dir.resolve("model"));
        BundledTokenizer.copyTo(model); // Qwen3's tokenizer_config.json with its chat_template
    }



    private static Path file(String name, String json) throws IOException {
        return Files.writeString(dir.resolve(name), json);
    }

    @Test
    void printsThePromptExactlyWithoutGenerationPrompt() throws IOException {
        Path messages = file("turns.json", """
                [{"role": "system", "content": "You are a helpful assistant"},
                 {"role": "user", "content": "What is 2+2?"},
                 {"role": "assistant", "content": "4"},
                 {"role": "user", "content": "And 3+3?\\nAnswer briefly."},
                 {"role": "assistant", "content": "6"}]
                """);
        Cli r = Cli.runWithStdio("", "template", "--model", model.toString(), "--messages", messages.toString(), "--no-generation-prompt");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                + "<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\nAnd 3+3?\nAnswer briefly.<|im_end|>\n"
                + "<|im_start|>assistant\n<think>\n\n</think>\n\n6<|im_end|>\n", r.out());
        assertEquals("", r.err());
    }

    @Test
    void extraVariablesReachTheTemplate() throws IOException {
        Path messages = file("hi.json", "[{\"role\": \"user\", \"content\": \"Hi\"}]");
        Cli r = Cli.runWithStdio("", "template", "--model", model.toString(), "--messages", messages.toString(),
                "--var", "enable_thinking=false");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", r.out());
    }

    @Test
    void toolsFromTheirOwnFile() throws IOException {
        Path messages = file("weather.json", """
                [{"role": "system", "content": "You are a weather bot."}, {"role": "user", "content": "Weather?"}]
                """);
        Path tools = file("tools.json", """
                [{"type": "function", "function": {"name": "get_current_temperature", "description": "Get current temperature at a location.", "parameters": {"type": "object", "properties": {"location": {"type": "string", "description": "The location to get the temperature for, in the format \\"City, State, Country\\"."}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "The unit to return the temperature in. Defaults to \\"celsius\\"."}}, "required": ["location"]}}}]
                """);
        Cli r = Cli.runWithStdio("", "template", "--model", model.toString(), "--messages", messages.toString(), "--tools", tools.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("<|im_start|>system\nYou are a weather bot.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
                + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
                + "{\"type\": \"function\", \"function\": {\"name\": \"get_current_temperature\", \"description\": \"Get current temperature at a location.\", "
                + "\"parameters\": {\"type\": \"object\", \"properties\": {\"location\": {\"type\": \"string\", \"description\": "
                + "\"The location to get the temperature for, in the format \\\"City, State, Country\\\".\"}, \"unit\": {\"type\": \"string\", "
                + "\"enum\": [\"celsius\", \"fahrenheit\"], \"description\": \"The unit to return the temperature in. Defaults to \\\"celsius\\\".\"}}, "
                + "\"required\": [\"location\"]}}}\n</tools>\n\nFor each function call, return a json object with function name and arguments "
                + "within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n"
                + "</tool_call><|im_end|>\n<|im_start|>user\nWeather?<|im_end|>\n<|im_start|>assistant\n", r.out());
    }

    @Test
    void nonAsciiTextIsPrintedAsUtf8() throws IOException {
        Path messages = file("unicode.json", "[{\"role\": \"user\", \"content\": \"naïve 答え 👩‍👩‍👧\"}]");
        Cli r = Cli.runWithStdio("", "template", "--model", model.toString(), "--messages", messages.toString());
        assertEquals("<|im_start|>user\nnaïve 答え 👩‍👩‍👧<|im_end|>\n<|im_start|>assistant\n", r.out());
    }

    @Test
    void badMessagesFileIsOneErrorLineNamingTheFile() throws IOException {
        Path broken = file("broken.json", "[{\"role\": \"user\", ");
        Cli r = Cli.runWithStdio("", "template", "--model", model.toString(), "--messages", broken.toString());
        assertNotEquals(0, r.exitCode());
        assertEquals("", r.out());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("broken.json"), r.err());

        Path notAList = file("object.json", "{\"role\": \"user\"}");
        r = Cli.runWithStdio("", "template", "--model", model.toString(), "--messages", notAList.toString());
        assertNotEquals(0, r.exitCode());
        assertTrue(r.err().contains("object.json") && r.err().contains("JSON array"), r.err());
    }

    @Test
    void templateThatRaisesIsOneErrorLineWithItsMessage() throws IOException {
        Path folder = Files.createDirectories(dir.resolve("strict"));
        Files.writeString(folder.resolve("tokenizer_config.json"),
                "{\"chat_template\": \"{{ raise_exception('System role not supported') }}\"}");
        Path messages = file("sys.json", "[{\"role\": \"system\", \"content\": \"x\"}]");
        Cli r = Cli.runWithStdio("", "template", "--model", folder.toString(), "--messages", messages.toString());
        assertNotEquals(0, r.exitCode());
        assertEquals("template: System role not supported", r.err().strip());
    }

    @Test
    void missingModelFolderIsOneErrorLine() throws IOException {
        Path messages = file("m.json", "[]");
        Cli r = Cli.runWithStdio("", "template", "--model", dir.resolve("nowhere").toString(), "--messages", messages.toString());
        assertNotEquals(0, r.exitCode());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void anyTemplateWithAContextFilePrintsExactlyTheRendering() throws IOException {
        Path template = file("t.jinja", "{% for k, v in d|items %}{{ k }}={{ v }}{% if not loop.last %}, {% endif %}{% endfor %}"
                + "|{{ [1, 'a'] }}|{{ -7 // 2 }}\n");
        Path context = file("ctx.json", "{\"d\": {\"x\": 1, \"y\": \"é\"}}");
        Cli r = Cli.runWithStdio("", "template", "--template", template.toString(), "--context", context.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("x=1, y=é|[1, 'a']|-4", r.out()); // Jinja2 drops the single trailing newline
        assertEquals("", r.err());

        Cli noContext = Cli.runWithStdio("", "template", "--template", file("plain.jinja", "[{{ x }}]").toString());
        assertEquals("[]", noContext.out());
    }

    @Test
    void templateFileErrorsAreOneLineNamingTheFileAndLine() throws IOException {
        Path template = file("bad.jinja", "line one\n{% for x in 42 %}{% endfor %}");
        Cli r = Cli.runWithStdio("", "template", "--template", template.toString());
        assertNotEquals(0, r.exitCode());
        assertTrue(r.oneErrorLine(), r.err());
        assertTrue(r.err().contains("bad.jinja") && r.err().contains("line 2") && r.err().contains("not iterable"), r.err());
    }

    @Test
    void batchPrintsOneJsonLinePerInputInOrder() throws IOException {
        Path batch = file("cases.jsonl", """
                {"template": "{{ a + b }}", "context": {"a": 1, "b": 2}}
                {"template": "{% for x in 5 %}{% endfor %}", "context": {}}
                not json
                {"template": "{{ 'naïve'|upper }}"}
                {"template": "{{ raise_exception('no system role') }}"}
                """);
        Cli r = Cli.runWithStdio("", "template", "--batch", batch.toString());
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(5, lines.size(), r.out());
        assertEquals("{\"output\":\"3\"}", lines.get(0));
        assertTrue(lines.get(1).startsWith("{\"error\":\"cases.jsonl line 2: ") && lines.get(1).contains("not iterable"), lines.get(1));
        assertTrue(lines.get(2).startsWith("{\"error\":\"cases.jsonl line 3: not valid JSON"), lines.get(2));
        assertEquals("{\"output\":\"NAÏVE\"}", lines.get(3));
        assertEquals("{\"error\":\"cases.jsonl line 5: no system role\"}", lines.get(4));
    }

    @Test
    void modesDoNotMix() throws IOException {
        Path template = file("m.jinja", "x");
        Cli r = Cli.runWithStdio("", "template", "--template", template.toString(), "--model", model.toString());
        assertNotEquals(0, r.exitCode());
        assertTrue(r.oneErrorLine(), r.err());
        r = Cli.runWithStdio("", "template");
        assertNotEquals(0, r.exitCode());
        assertTrue(r.oneErrorLine() && r.err().contains("--template"), r.err());
    }

    @Test
    void aTemplateThatGrowsWithoutBoundIsOneErrorLineNotAnOutOfMemoryError() throws IOException {
        Path template = file("double.jinja",
                "{% set s = namespace(v='ab') %}{% for i in range(40) %}{% set s.v = s.v + s.v %}{% endfor %}{{ s.v }}");
        Cli r = Cli.runWithStdio("", "template", "--template", template.toString());
        assertNotEquals(0, r.exitCode());
        assertEquals("", r.out());
        assertTrue(r.oneErrorLine() && r.err().contains("exceeds the limit"), r.err());
    }
}
