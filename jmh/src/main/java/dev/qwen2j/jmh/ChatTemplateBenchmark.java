package dev.qwen2j.jmh;

import dev.qwen2j.core.chat.ChatTemplate;
import dev.qwen2j.core.checkpoint.BundledTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Rendering Qwen3's chat template (the bundled tokenizer_config.json) for a tool-calling conversation of ten
 * messages with reasoning, as {@code Model.chat} renders before every generation; and parsing it, as
 * {@code ChatTemplate.load} does once per model. Single thread: {@code ./build bench ChatTemplate}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@State(Scope.Benchmark)
public class ChatTemplateBenchmark {

    private ChatTemplate template;
    private List<Map<String, Object>> messages;
    private List<Map<String, Object>> tools;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path folder = Files.createTempDirectory("qwen2j-template-bench");
        BundledTokenizer.copyTo(folder);
        template = ChatTemplate.load(folder);
        tools = List.of(Map.of("type", "function", "function", Map.of("name", "get_weather",
                "description", "Current weather of a city", "parameters", Map.of("type", "object",
                        "properties", Map.of("city", Map.of("type", "string")), "required", List.of("city")))));
        messages = new java.util.ArrayList<>();
        messages.add(Map.of("role", "system", "content", "You are a helpful assistant."));
        for (int i = 0; i < 3; i++) {
            messages.add(Map.of("role", "user", "content", "What is the weather in city " + i + "?"));
            Map<String, Object> call = new LinkedHashMap<>();
            call.put("role", "assistant");
            call.put("content", "<think>\nThe user wants weather " + i + ".\n</think>\n\n");
            call.put("tool_calls", List.of(Map.of("type", "function", "function",
                    Map.of("name", "get_weather", "arguments", Map.of("city", "city " + i)))));
            messages.add(call);
            messages.add(Map.of("role", "tool", "content", "{\"temperature\": " + (20 + i) + "}"));
        }
        messages.add(Map.of("role", "user", "content", "Thanks, and tomorrow?"));
    }

    @Benchmark
    public String render() {
        return template.render(messages, tools, true, null);
    }

    @Benchmark
    public ChatTemplate parse() {
        return ChatTemplate.of(template.source(), Map.of());
    }
}
