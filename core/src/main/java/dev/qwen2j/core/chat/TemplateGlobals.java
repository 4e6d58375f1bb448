package dev.qwen2j.core.chat;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The global functions of transformers' environment: Jinja2's own ({@code range}, {@code dict},
 * {@code namespace}, {@code cycler}, {@code joiner}) and transformers' {@code raise_exception} and
 * {@code strftime_now}.
 */
final class TemplateGlobals {

    /** The sandbox's bound on range(), as Jinja2's SandboxedEnvironment.MAX_RANGE. */
    static final int MAX_RANGE = 100_000;

    private TemplateGlobals() {
    }

    static Map<String, Object> create(Interpreter interpreter) {
        Map<String, Object> g = new HashMap<>();
        g.put("range", (Py.Callable) (args, kwargs) -> range(args));
        g.put("dict", (Py.Callable) (args, kwargs) -> {
            Map<Object, Object> d = new LinkedHashMap<>();
            if (!args.isEmpty()) {
                Object source = args.getFirst();
                if (source instanceof Map<?, ?> m) {
                    d.putAll(m);
                } else {
                    for (Object pair : Py.iterate(source)) {
                        List<Object> kv = Py.list(pair);
                        d.put(kv.get(0), kv.get(1));
                    }
                }
            }
            d.putAll(kwargs);
            return d;
        });
        g.put("namespace", (Py.Callable) (args, kwargs) -> {
            Namespace ns = new Namespace();
            if (!args.isEmpty() && args.getFirst() instanceof Map<?, ?> m) {
                m.forEach((k, v) -> ns.attributes.put(Py.str(k), v));
            }
            ns.attributes.putAll(kwargs);
            return ns;
        });
        g.put("cycler", (Py.Callable) (args, kwargs) -> cycler(args));
        g.put("joiner", (Py.Callable) (args, kwargs) -> {
            String sep = args.isEmpty() ? ", " : Py.str(args.getFirst());
            boolean[] used = {false};
            return (Py.Callable) (a, k) -> {
                if (used[0]) {
                    return sep;
                }
                used[0] = true;
                return "";
            };
        });
        g.put("raise_exception", (Py.Callable) (args, kwargs) -> {
            throw new ChatTemplateException(args.isEmpty() ? "" : Py.str(args.getFirst()));
        });
        g.put("strftime_now", (Py.Callable) (args, kwargs) ->
                strftime(interpreter.now(), Py.requireString(args.isEmpty() ? null : args.getFirst(), "format")));
        return g;
    }

    private static Object range(List<Object> args) {
        if (args.isEmpty() || args.size() > 3) {
            throw TemplateError.type("range expected at most 3 arguments, got " + args.size());
        }
        long[] a = new long[args.size()];
        for (int i = 0; i < a.length; i++) {
            Object v = args.get(i);
            if (!Py.isInt(v) && !(v instanceof Boolean)) {
                throw TemplateError.type("'" + Py.typeName(v) + "' object cannot be interpreted as an integer");
            }
            a[i] = Py.toLong(v);
        }
        long start = a.length == 1 ? 0 : a[0];
        long stop = a.length == 1 ? a[0] : a[1];
        long step = a.length == 3 ? a[2] : 1;
        if (step == 0) {
            throw new TemplateError("ValueError", "range() arg 3 must not be zero");
        }
        long n = step > 0 ? Math.max(0, (stop - start + step - 1) / step) : Math.max(0, (start - stop - step - 1) / -step);
        if (n > MAX_RANGE) {
            throw new TemplateError("OverflowError", "Range too big. The sandbox blocks ranges larger than MAX_RANGE ("
                    + MAX_RANGE + ").");
        }
        List<Object> out = new ArrayList<>((int) n);
        for (long i = 0, v = start; i < n; i++, v += step) {
            out.add(v);
        }
        return out;
    }

    private static Object cycler(List<Object> items) {
        if (items.isEmpty()) {
            throw TemplateError.type("at least one item has to be provided");
        }
        int[] pos = {0};
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("next", (Py.Callable) (a, k) -> items.get(pos[0]++ % items.size()));
        c.put("reset", (Py.Callable) (a, k) -> {
            pos[0] = 0;
            return null;
        });
        Namespace cycler = new Namespace();
        cycler.attributes.putAll(c);
        return cycler;
    }

    /** Python's strftime in the C locale (what transformers' strftime_now calls). */
    static String strftime(LocalDateTime t, String format) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            char d = format.charAt(++i);
            boolean pad = true;
            if (d == '-' && i + 1 < format.length()) { // glibc's "no padding" flag, e.g. %-d
                pad = false;
                d = format.charAt(++i);
            }
            int hour12 = t.getHour() % 12 == 0 ? 12 : t.getHour() % 12;
            switch (d) {
                case 'Y' -> out.append(t.getYear());
                case 'y' -> out.append(number(t.getYear() % 100, 2, pad));
                case 'm' -> out.append(number(t.getMonthValue(), 2, pad));
                case 'd' -> out.append(number(t.getDayOfMonth(), 2, pad));
                case 'e' -> out.append(pad ? String.format("%2d", t.getDayOfMonth()) : t.getDayOfMonth());
                case 'H' -> out.append(number(t.getHour(), 2, pad));
                case 'I' -> out.append(number(hour12, 2, pad));
                case 'M' -> out.append(number(t.getMinute(), 2, pad));
                case 'S' -> out.append(number(t.getSecond(), 2, pad));
                case 'f' -> out.append(number(t.getNano() / 1000, 6, true));
                case 'j' -> out.append(number(t.getDayOfYear(), 3, pad));
                case 'p' -> out.append(t.getHour() < 12 ? "AM" : "PM");
                case 'A' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> out.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'b', 'h' -> out.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'w' -> out.append(t.getDayOfWeek().getValue() % 7);
                case 'u' -> out.append(t.getDayOfWeek().getValue());
                case '%' -> out.append('%');
                default -> out.append('%').append(pad ? "" : "-").append(d);
            }
        }
        return out.toString();
    }

    private static String number(int value, int width, boolean pad) {
        return pad ? String.format("%0" + width + "d", value) : Integer.toString(value);
    }
}
