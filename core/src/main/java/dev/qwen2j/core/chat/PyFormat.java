package dev.qwen2j.core.chat;

import java.util.List;
import java.util.Map;

/** Python's {@code "%s" % args} and {@code "{}".format(...)} for the conversions templates use. */
final class PyFormat {

    private PyFormat() {
    }

    static String percent(String format, Object args) {
        List<?> values = args instanceof Py.Tuple t ? t : List.of(args == null ? "None" : args);
        if (args == null) {
            values = java.util.Collections.singletonList(null);
        }
        Map<?, ?> named = args instanceof Map<?, ?> m ? m : null;
        StringBuilder out = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            if (++i >= format.length()) {
                throw new TemplateError("ValueError", "incomplete format");
            }
            Object value = null;
            boolean haveValue = false;
            if (format.charAt(i) == '(') {
                int close = format.indexOf(')', i);
                if (named == null || close < 0) {
                    throw TemplateError.type("format requires a mapping");
                }
                value = named.get(format.substring(i + 1, close));
                haveValue = true;
                i = close + 1;
            }
            int specStart = i;
            while (i < format.length() && "-+ #0123456789.".indexOf(format.charAt(i)) >= 0) {
                i++;
            }
            if (i >= format.length()) {
                throw new TemplateError("ValueError", "incomplete format");
            }
            String spec = format.substring(specStart, i);
            char conv = format.charAt(i);
            if (conv == '%') {
                out.append('%');
                continue;
            }
            if (!haveValue) {
                if (named != null && !(args instanceof Py.Tuple)) {
                    value = args;
                } else {
                    if (next >= values.size()) {
                        throw TemplateError.type("not enough arguments for format string");
                    }
                    value = values.get(next++);
                }
            }
            out.append(convert(spec, conv, value));
        }
        if (named == null && next < values.size()) {
            throw TemplateError.type("not all arguments converted during string formatting");
        }
        return out.toString();
    }

    private static String convert(String spec, char conv, Object value) {
        String body = switch (conv) {
            case 's' -> Py.str(value);
            case 'r', 'a' -> Py.repr(value);
            case 'd', 'i', 'u' -> {
                if (!Py.isNumeric(value)) {
                    throw TemplateError.type("%" + conv + " format: a real number is required, not " + Py.typeName(value));
                }
                yield Long.toString(Py.isFloat(value) ? (long) Py.toDouble(value) : Py.toLong(value));
            }
            case 'f', 'F', 'e', 'E', 'g', 'G' -> {
                if (!Py.isNumeric(value)) {
                    throw TemplateError.type("must be real number, not " + Py.typeName(value));
                }
                int dot = spec.indexOf('.');
                int precision = dot < 0 ? 6 : Integer.parseInt(spec.substring(dot + 1).isEmpty() ? "0" : spec.substring(dot + 1));
                yield String.format(java.util.Locale.ROOT, "%." + precision + conv, Py.toDouble(value));
            }
            case 'x', 'X', 'o' -> Long.toString(Py.toLong(value), conv == 'o' ? 8 : 16);
            case 'c' -> value instanceof String s ? s : Character.toString((int) Py.toLong(value));
            default -> throw new TemplateError("ValueError", "unsupported format character '" + conv + "'");
        };
        if (conv == 'X') {
            body = body.toUpperCase(java.util.Locale.ROOT);
        }
        String widthSpec = spec.contains(".") ? spec.substring(0, spec.indexOf('.')) : spec;
        boolean left = widthSpec.contains("-");
        boolean zero = widthSpec.startsWith("0") || widthSpec.matches("[-+ #]*0.*");
        String digits = widthSpec.replaceAll("[-+ #]", "");
        int width = digits.isEmpty() ? 0 : Integer.parseInt(digits);
        if (conv == 's' && spec.contains(".")) {
            int precision = Integer.parseInt(spec.substring(spec.indexOf('.') + 1));
            body = body.substring(0, Math.min(body.length(), precision));
        }
        if (body.length() < width) {
            String pad = (zero && !left ? "0" : " ").repeat(width - body.length());
            body = left ? body + pad : zero && body.startsWith("-") ? "-" + pad + body.substring(1) : pad + body;
        }
        return body;
    }

    /** str.format: {}, {0}, {name}, with an optional [fill][align][width] spec. */
    static String format(String s, List<Object> args, Map<String, Object> kwargs) {
        StringBuilder out = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '{' && i + 1 < s.length() && s.charAt(i + 1) == '{') {
                out.append('{');
                i++;
            } else if (c == '}' && i + 1 < s.length() && s.charAt(i + 1) == '}') {
                out.append('}');
                i++;
            } else if (c == '{') {
                int close = s.indexOf('}', i);
                if (close < 0) {
                    throw new TemplateError("ValueError", "Single '{' encountered in format string");
                }
                String field = s.substring(i + 1, close);
                String spec = "";
                int colon = field.indexOf(':');
                if (colon >= 0) {
                    spec = field.substring(colon + 1);
                    field = field.substring(0, colon);
                }
                Object value;
                if (field.isEmpty()) {
                    value = index(args, auto++);
                } else if (field.chars().allMatch(Character::isDigit)) {
                    value = index(args, Integer.parseInt(field));
                } else if (kwargs.containsKey(field)) {
                    value = kwargs.get(field);
                } else {
                    throw new TemplateError("KeyError", Py.repr(field));
                }
                out.append(align(Py.str(value), spec));
                i = close;
            } else if (c == '}') {
                throw new TemplateError("ValueError", "Single '}' encountered in format string");
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static Object index(List<Object> args, int i) {
        if (i >= args.size()) {
            throw new TemplateError("IndexError", "Replacement index " + i + " out of range for positional args tuple");
        }
        return args.get(i);
    }

    private static String align(String value, String spec) {
        if (spec.isEmpty()) {
            return value;
        }
        char fill = ' ';
        char how = '<';
        int p = 0;
        if (spec.length() > 1 && "<>^".indexOf(spec.charAt(1)) >= 0) {
            fill = spec.charAt(0);
            how = spec.charAt(1);
            p = 2;
        } else if ("<>^".indexOf(spec.charAt(0)) >= 0) {
            how = spec.charAt(0);
            p = 1;
        }
        String digits = spec.substring(p);
        int width = digits.isEmpty() || !digits.chars().allMatch(Character::isDigit) ? 0 : Integer.parseInt(digits);
        int total = width - value.length();
        if (total <= 0) {
            return value;
        }
        String f = String.valueOf(fill);
        return switch (how) {
            case '>' -> f.repeat(total) + value;
            case '^' -> f.repeat(total / 2) + value + f.repeat(total - total / 2);
            default -> value + f.repeat(total);
        };
    }
}
