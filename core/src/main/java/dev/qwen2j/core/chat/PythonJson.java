package dev.qwen2j.core.chat;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * JSON text exactly as Python's {@code json.dumps} writes it, which is what transformers' {@code tojson}
 * filter calls ({@code ensure_ascii=False}, default separators {@code ", "} and {@code ": "}, insertion
 * order, optional indent). Jackson's writers differ in separators, float spelling ({@code 1.0E-5} versus
 * Python's {@code 1e-05}) and escapes, and one differing byte changes the prompt's tokens.
 */
final class PythonJson {

    private PythonJson() {
    }

    /**
     * @param indent null for one line; otherwise newline plus this many spaces per level, and item separator ","
     */
    static String dumps(Object value, Integer indent, boolean ensureAscii, boolean sortKeys) {
        StringBuilder out = new StringBuilder();
        write(out, value, indent, 0, ensureAscii, sortKeys);
        return out.toString();
    }

    private static void write(StringBuilder out, Object value, Integer indent, int depth, boolean ascii, boolean sort) {
        switch (value) {
            case null -> out.append("null");
            case CharSequence s -> writeString(out, s.toString(), ascii);
            case Boolean b -> out.append(b ? "true" : "false");
            case Double d -> out.append(pythonFloat(d));
            case Float f -> out.append(pythonFloat(f.doubleValue()));
            case BigDecimal b -> out.append(pythonFloat(b.doubleValue()));
            case Number n -> out.append(n.toString());
            case Map<?, ?> map -> writeObject(out, sort ? new TreeMap<>(stringKeys(map)) : map, indent, depth, ascii, sort);
            case Iterable<?> items -> writeArray(out, items.iterator(), indent, depth, ascii, sort);
            case Object[] items -> writeArray(out, Arrays.asList(items).iterator(), indent, depth, ascii, sort);
            default -> writeString(out, value.toString(), ascii);
        }
    }

    private static Map<String, Object> stringKeys(Map<?, ?> map) {
        Map<String, Object> keyed = new java.util.LinkedHashMap<>();
        map.forEach((k, v) -> keyed.put(keyString(k), v));
        return keyed;
    }

    private static void writeObject(StringBuilder out, Map<?, ?> map, Integer indent, int depth, boolean ascii,
                                    boolean sort) {
        if (map.isEmpty()) {
            out.append("{}");
            return;
        }
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!first) {
                out.append(indent == null ? ", " : ",");
            }
            first = false;
            newline(out, indent, depth + 1);
            writeString(out, keyString(e.getKey()), ascii);
            out.append(": ");
            write(out, e.getValue(), indent, depth + 1, ascii, sort);
        }
        newline(out, indent, depth);
        out.append('}');
    }

    private static void writeArray(StringBuilder out, Iterator<?> items, Integer indent, int depth, boolean ascii,
                                   boolean sort) {
        if (!items.hasNext()) {
            out.append("[]");
            return;
        }
        out.append('[');
        boolean first = true;
        while (items.hasNext()) {
            if (!first) {
                out.append(indent == null ? ", " : ",");
            }
            first = false;
            newline(out, indent, depth + 1);
            write(out, items.next(), indent, depth + 1, ascii, sort);
        }
        newline(out, indent, depth);
        out.append(']');
    }

    private static void newline(StringBuilder out, Integer indent, int depth) {
        if (indent != null) {
            out.append('\n').repeat(' ', indent * depth);
        }
    }

    /** Python turns keys into strings: True → "true", None → "null", numbers as written. */
    private static String keyString(Object key) {
        return switch (key) {
            case null -> "null";
            case Boolean b -> b ? "true" : "false";
            case Double d -> pythonFloat(d);
            default -> key.toString();
        };
    }

    private static void writeString(StringBuilder out, String s, boolean ascii) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (ascii && c > 0x7e)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** Python's float repr: shortest round-trip digits, exponent form below 1e-4 and from 1e16 on. */
    static String pythonFloat(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        // Java's Double.toString also gives the shortest round-trip digits (JDK 19+); only the layout differs.
        BigDecimal exact = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = exact.unscaledValue().toString();
        int exponent = digits.length() - 1 - exact.scale(); // value = d.ddd × 10^exponent
        String sign = d < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
        }
        if (exponent < 0) {
            return sign + "0." + "0".repeat(-exponent - 1) + digits;
        }
        if (digits.length() <= exponent + 1) {
            return sign + digits + "0".repeat(exponent + 1 - digits.length()) + ".0";
        }
        return sign + digits.substring(0, exponent + 1) + "." + digits.substring(exponent + 1);
    }
}
