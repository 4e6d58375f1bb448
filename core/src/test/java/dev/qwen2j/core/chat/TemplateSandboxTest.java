package dev.qwen2j.core.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The sandbox's limits end a render with a clear error, never a truncated prompt or an OutOfMemoryError. */
class TemplateSandboxTest {

    private static final List<Map<String, Object>> HI = List.of(Map.of("role", "user", "content", "hi"));

    private static ChatTemplateException fails(String template) {
        return assertThrows(ChatTemplateException.class, () -> ChatTemplate.of(template, Map.of()).render(HI, null, true, null));
    }

    @Test
    void doublingAStringFortyTimesFailsFastNamingTheLimit() {
        long start = System.nanoTime();
        ChatTemplateException e = fails("{% set s = namespace(v='ab') %}{% for i in range(40) %}{% set s.v = s.v + s.v %}{% endfor %}{{ s.v }}");
        assertTrue(e.getMessage().contains("exceeds the limit"), e.getMessage());
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
        assertTrue(System.nanoTime() - start < 5_000_000_000L, "took too long");
    }

    @Test
    void recursiveMacroIsAClearError() {
        ChatTemplateException e = fails("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}");
        assertTrue(e.getMessage().contains("nested deeper than"), e.getMessage());
    }

    @Test
    void loopsAreNotCutAtAThousandItems() {
        String t = "{% set ns = namespace(n=0) %}{% for m in range(5000) %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}";
        assertEquals("5000", ChatTemplate.of(t, Map.of()).render(HI, null, true, null));
    }

    @Test
    void iterationAndOutputAndTimeLimitsAreClearErrors() {
        ChatTemplate loops = ChatTemplate.of("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}", Map.of())
                .withLimits(new TemplateLimits(1000, 10, 5000, Duration.ofSeconds(5)));
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> loops.render(HI, null, true, null));
        assertTrue(e.getMessage().contains("loop iterations"), e.getMessage());

        ChatTemplate big = ChatTemplate.of("{% for i in range(100) %}0123456789{% endfor %}", Map.of())
                .withLimits(new TemplateLimits(500, 10, 100_000, Duration.ofSeconds(5)));
        e = assertThrows(ChatTemplateException.class, () -> big.render(HI, null, true, null));
        assertTrue(e.getMessage().contains("500 characters"), e.getMessage());

        ChatTemplate slow = ChatTemplate.of("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", Map.of())
                .withLimits(new TemplateLimits(1000, 10, Long.MAX_VALUE, Duration.ofMillis(200)));
        e = assertThrows(ChatTemplateException.class, () -> slow.render(HI, null, true, null));
        assertTrue(e.getMessage().contains("longer than"), e.getMessage());
    }

    @Test
    void numericContentRendersAsJinja2OrNamesTheMessage() {
        List<Map<String, Object>> number = List.of(Map.of("role", "user", "content", 42));
        assertEquals("42", ChatTemplate.of("{{ messages[0].content }}", Map.of()).render(number, null, true, null));
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> ChatTemplate.of(
                "{{ messages[0].content.startswith('x') }}", Map.of()).render(number, null, true, null));
        assertTrue(e.getMessage().contains("messages[0].content is int 42"), e.getMessage());
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
    }

    @Test
    void hostObjectsExposeNoAttributes() {
        Map<String, Object> vars = Map.of("o", new Object(), "t", Thread.currentThread());
        assertEquals("||True", ChatTemplate.of("{{ o.getClass }}|{{ t.name }}|{{ o.hashCode is undefined }}", Map.of())
                .renderVariables(vars));
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.of("{{ ''.__class__.__mro__ }}", Map.of()).renderVariables(Map.of()));
        assertTrue(e.getMessage().contains("unsafe"), e.getMessage());
    }

    @Test
    void absurdNestingIsAClearErrorNotAStackOverflow() {
        String deep = "{{ " + "(".repeat(200_000) + "1" + ")".repeat(200_000) + " }}";
        ChatTemplateException e = fails(deep);
        assertTrue(e.getMessage().contains("nests too deeply"), e.getMessage());
    }
}
