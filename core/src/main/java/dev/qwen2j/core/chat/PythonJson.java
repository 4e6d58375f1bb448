package dev.qwen2j.core.chat;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * JSON text exactly as Python's {@code json.dumps} writes it, which is what transformers' {@code tojson}
 * filter calls ({@code ensure_ascii=False}, default separators {@code ", "} and {@code ": "}, insertion
 * order, optional indent). Jackson's writers differ in separators, float spelling ({@code 1.0E-5} versus
 * Python's {@code 1e-05}) and escapes, and one differing byte changes the prompt's tokens.
 */
final class PythonJson {

    private PythonJson() {
    }

    /** json.dumps(value, ensure_ascii=ensureAscii, indent=indent, sort_keys=sortKeys). */
    static String dumps(Object value, Integer indent, boolean ensureAscii, boolean sortKeys) {
        return dumps(value, indent, null, sortKeys, ensureAscii);
    }

    /**
     * json.dumps with transformers' tojson arguments.
     *
     * @param indent     None for one line, an int (spaces per level) or a string (the indent itself)
     * @param separators None, or an (item separator, key separator) pair
     */
    static String dumps(Object value, Object indent, Object separators, boolean sortKeys, boolean ensureAscii) {
        String indentText = switch (indent) {
            case null -> null;
            case String s -> s;
            default -> {
                if (!Py.isInt(indent) && !(indent instanceof Boolean)) {
                    throw TemplateError.type("can't multiply sequence by non-int of type '" + Py.typeName(indent) + "'");
                }
                yield " ".repeat((int) Math.max(0, Py.toLong(indent)));
            }
        };
        String itemSeparator = indentText == null ? ", " : ",";
        String keySeparator = ": ";
        if (separators != null) {
            List<Object> pair = Py.list(separators);
            if (pair.size() != 2) {
                throw new TemplateError("ValueError", "separators must be a pair of strings");
            }
            itemSeparator = Py.requireString(pair.get(0), "separator");
            keySeparator = Py.requireString(pair.get(1), "separator");
        }
        StringBuilder out = new StringBuilder();
        new Writer(out, indentText, itemSeparator, keySeparator, ensureAscii, sortKeys).write(value, 0);
        return out.toString();
    }

    private record Writer(StringBuilder out, String indent, String itemSeparator, String keySeparator, boolean ascii,
                          boolean sort) {
        void write(Object value, int depth) {
            switch (value) {
                case null -> out.append("null");
                case String s -> writeString(out, s, ascii);
                case Boolean b -> out.append(b ? "true" : "false");
                case Map<?, ?> map -> writeObject(map, depth);
                case List<?> items -> writeArray(items, depth);
                default -> {
                    if (Py.isInt(value)) {
                        out.append(value);
                    } else if (Py.isFloat(value)) {
                        out.append(pythonFloat(Py.toDouble(value)));
                    } else {
                        throw TemplateError.type("Object of type " + Py.typeName(value) + " is not JSON serializable");
                    }
                }
            }
        }

        private void writeObject(Map<?, ?> map, int depth) {
            if (map.isEmpty()) {
                out.append("{}");
                return;
            }
            List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
            if (sort) {
                entries.sort((a, b) -> Py.compare(a.getKey(), b.getKey(), "<"));
            }
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : entries) {
                if (!first) {
                    out.append(itemSeparator);
                }
                first = false;
                newline(depth + 1);
                writeString(out, keyString(e.getKey()), ascii);
                out.append(keySeparator);
                write(e.getValue(), depth + 1);
            }
            newline(depth);
            out.append('}');
        }

        private void writeArray(List<?> items, int depth) {
            if (items.isEmpty()) {
                out.append("[]");
                return;
            }
            out.append('[');
            boolean first = true;
            for (Object item : items) {
                if (!first) {
                    out.append(itemSeparator);
                }
                first = false;
                newline(depth + 1);
                write(item, depth + 1);
            }
            newline(depth);
            out.append(']');
        }

        private void newline(int depth) {
            if (indent != null) {
                out.append('\n').repeat(indent, depth);
            }
        }
    }

    /** Python turns keys into strings: True → "true", None → "null", numbers as written. */
    private static String keyString(Object key) {
        return switch (key) {
            case null -> "null";
            case String s -> s;
            case Boolean b -> b ? "true" : "false";
            default -> {
                if (Py.isInt(key)) {
                    yield key.toString();
                }
                if (Py.isFloat(key)) {
                    yield pythonFloat(Py.toDouble(key));
                }
                throw TemplateError.type("keys must be str, int, float, bool or None, not " + Py.typeName(key));
            }
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
