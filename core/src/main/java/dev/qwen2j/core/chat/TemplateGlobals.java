package dev.qwen2j.core.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.objects.SafeString;
import java.lang.reflect.Method;
import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What transformers adds to its Jinja2 environment: {@code raise_exception}, {@code strftime_now} and its own
 * {@code tojson}; plus {@code py_slice}, the filter {@link JinjaSource} turns stepped slices into.
 */
final class TemplateGlobals {

    private TemplateGlobals() {
    }

    static void register(Jinjava jinjava) {
        jinjava.registerFunction(function("raise_exception", "raiseException", Object.class));
        jinjava.registerFunction(function("strftime_now", "strftimeNow", String.class));
        jinjava.registerFilter(new ToJson());
        jinjava.registerFilter(new PySlice());
    }

    private static ELFunctionDefinition function(String name, String method, Class<?> parameter) {
        try {
            Method m = TemplateGlobals.class.getMethod(method, parameter);
            m.setAccessible(true); // this class is package-private; jinjava calls the method reflectively
            return new ELFunctionDefinition("", name, m);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code raise_exception(message)}: the template rejects its input. */
    public static Object raiseException(Object message) {
        throw new ChatTemplateException(String.valueOf(message));
    }

    /** {@code strftime_now(format)}: the local time now, formatted as Python's strftime in the C locale. */
    public static String strftimeNow(String format) {
        return strftime(LocalDateTime.now(), format);
    }

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

    /** transformers' tojson: {@code json.dumps(x, ensure_ascii=False, indent=indent, sort_keys=sort_keys)}. */
    static final class ToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
            boolean ensureAscii = Boolean.TRUE.equals(kwargs.get("ensure_ascii"));
            boolean sortKeys = Boolean.TRUE.equals(kwargs.get("sort_keys"));
            Integer spaces = indent == null ? null : Integer.valueOf(indent.toString());
            return new SafeString(PythonJson.dumps(unwrap(var), spaces, ensureAscii, sortKeys));
        }
    }

    private static Object unwrap(Object value) {
        return value instanceof SafeString s ? s.getValue() : value;
    }

    /** Python's {@code x[start:stop:step]} on lists and strings; null bounds are omitted ones. */
    static final class PySlice implements Filter {
        @Override
        public String getName() {
            return "py_slice";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, (Object[]) args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object value = unwrap(var);
            List<Object> items = new ArrayList<>();
            if (value instanceof String s) {
                s.codePoints().forEach(cp -> items.add(Character.toString(cp)));
            } else if (value instanceof Iterable<?> iterable) {
                iterable.forEach(items::add);
            } else {
                throw new ChatTemplateException("cannot slice " + (value == null ? "None" : value.getClass().getSimpleName()));
            }
            int n = items.size();
            long step = bound(args, 2) == null ? 1 : bound(args, 2);
            if (step == 0) {
                throw new ChatTemplateException("slice step cannot be zero");
            }
            Long startArg = bound(args, 0), stopArg = bound(args, 1);
            long start = startArg == null ? (step > 0 ? 0 : n - 1) : clamp(startArg, n, step);
            long stop = stopArg == null ? (step > 0 ? n : -1) : clamp(stopArg, n, step);
            List<Object> slice = new ArrayList<>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
                slice.add(items.get((int) i));
            }
            if (value instanceof String) {
                StringBuilder sb = new StringBuilder();
                slice.forEach(sb::append);
                return sb.toString();
            }
            return slice;
        }

        private static Long bound(Object[] args, int i) {
            if (args.length <= i || args[i] == null || args[i].toString().isEmpty() || "None".equals(args[i].toString())) {
                return null;
            }
            return args[i] instanceof Number num ? num.longValue() : Long.parseLong(args[i].toString().trim());
        }

        /** As CPython's PySlice_AdjustIndices. */
        private static long clamp(long index, int n, long step) {
            if (index < 0) {
                index += n;
                if (index < 0) {
                    index = step < 0 ? -1 : 0;
                }
            } else if (index >= n) {
                index = step < 0 ? n - 1 : n;
            }
            return index;
        }
    }
}
