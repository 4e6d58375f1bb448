package dev.qwen2j.core.chat;

import java.math.BigDecimal;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Python's value semantics for template values: None is null, bool Boolean, int Long (any integral Number is
 * read as one), float Double, str String, list List, tuple {@link Tuple}, dict Map, plus {@link Undefined} and
 * one-shot iterators ({@link Iter}: what Jinja2's select, map, reverse, items ... return). Printing, truth,
 * equality, ordering, arithmetic and membership follow CPython, including its error messages.
 */
final class Py {

    private Py() {
    }

    /** A Python tuple: prints with parentheses, compares equal only to tuples. */
    static final class Tuple extends AbstractList<Object> {
        final Object[] items;

        Tuple(Object... items) {
            this.items = items;
        }

        @Override
        public Object get(int index) {
            return items[index];
        }

        @Override
        public int size() {
            return items.length;
        }
    }

    /** A generator or iterator: iterable once, truthy, without a length or items by index. */
    static final class Iter implements Iterable<Object> {
        final String typeName;
        private final Iterable<?> source;

        Iter(String typeName, Iterable<?> source) {
            this.typeName = typeName;
            this.source = source;
        }

        @Override
        @SuppressWarnings("unchecked")
        public Iterator<Object> iterator() {
            return (Iterator<Object>) source.iterator();
        }
    }

    // ---- types

    static boolean isInt(Object v) {
        return v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte
                || v instanceof java.math.BigInteger;
    }

    static boolean isFloat(Object v) {
        return v instanceof Double || v instanceof Float || v instanceof BigDecimal;
    }

    /** int, float or bool: what Python's arithmetic accepts. */
    static boolean isNumeric(Object v) {
        return isInt(v) || isFloat(v) || v instanceof Boolean;
    }

    static long toLong(Object v) {
        return v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).longValue();
    }

    static double toDouble(Object v) {
        return v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).doubleValue();
    }

    static boolean isString(Object v) {
        return v instanceof String;
    }

    static boolean isList(Object v) {
        return v instanceof List<?> && !(v instanceof Tuple);
    }

    static String typeName(Object v) {
        return switch (v) {
            case null -> "NoneType";
            case Boolean b -> "bool";
            case String s -> "str";
            case Tuple t -> "tuple";
            case List<?> l -> "list";
            case Map<?, ?> m -> "dict";
            case Undefined u -> "Undefined";
            case Iter it -> it.typeName;
            case Interpreter.Macro m -> "Macro";
            case Namespace n -> "Namespace";
            case Interpreter.LoopContext l -> "LoopContext";
            case Callable c -> "function";
            default -> isInt(v) ? "int" : isFloat(v) ? "float" : "object";
        };
    }

    /** Jinja2's description of an owner in "has no attribute" messages: 'dict object', 'str object', None. */
    static String describe(Object owner) {
        if (owner == null) {
            return "'None'";
        }
        return "'" + typeName(owner) + " object'";
    }

    /** A function a template can call: globals, bound methods, macros. */
    interface Callable {
        Object call(List<Object> args, Map<String, Object> kwargs);
    }

    // ---- truth, printing

    static boolean truthy(Object v) {
        return switch (v) {
            case null -> false;
            case Boolean b -> b;
            case String s -> !s.isEmpty();
            case Undefined u -> false;
            case java.util.Collection<?> c -> !c.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            default -> {
                if (isInt(v)) {
                    yield toLong(v) != 0;
                }
                if (isFloat(v)) {
                    yield toDouble(v) != 0;
                }
                yield true;
            }
        };
    }

    /** Python's {@code str(v)}, which is what {{ v }} prints. */
    static String str(Object v) {
        if (v instanceof String s) {
            return s;
        }
        StringBuilder out = new StringBuilder();
        appendStr(out, v);
        return out.toString();
    }

    static void appendStr(StringBuilder out, Object v) {
        switch (v) {
            case null -> out.append("None");
            case String s -> out.append(s);
            case Undefined u -> { }
            default -> appendRepr(out, v);
        }
    }

    /** Python's {@code repr(v)}. */
    static String repr(Object v) {
        StringBuilder out = new StringBuilder();
        appendRepr(out, v);
        return out.toString();
    }

    static void appendRepr(StringBuilder out, Object v) {
        switch (v) {
            case null -> out.append("None");
            case Boolean b -> out.append(b ? "True" : "False");
            case String s -> appendStringRepr(out, s);
            case Tuple t -> {
                out.append('(');
                for (int i = 0; i < t.items.length; i++) {
                    if (i > 0) {
                        out.append(", ");
                    }
                    appendRepr(out, t.items[i]);
                }
                out.append(t.items.length == 1 ? ",)" : ")");
            }
            case List<?> l -> {
                out.append('[');
                boolean first = true;
                for (Object item : l) {
                    if (!first) {
                        out.append(", ");
                    }
                    first = false;
                    appendRepr(out, item);
                }
                out.append(']');
            }
            case Map<?, ?> m -> {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) {
                        out.append(", ");
                    }
                    first = false;
                    appendRepr(out, e.getKey());
                    out.append(": ");
                    appendRepr(out, e.getValue());
                }
                out.append('}');
            }
            case Undefined u -> out.append("Undefined");
            case Iter it -> out.append('<').append(it.typeName).append(" object>");
            case Namespace n -> out.append("<Namespace ").append(repr(n.attributes)).append('>');
            default -> {
                if (isInt(v)) {
                    out.append(v);
                } else if (isFloat(v)) {
                    out.append(floatRepr(toDouble(v)));
                } else {
                    out.append('<').append(typeName(v)).append(" object>");
                }
            }
        }
    }

    /** Python's float repr: shortest round-trip digits, exponent form below 1e-4 and from 1e16 on. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        return PythonJson.pythonFloat(d);
    }

    private static void appendStringRepr(StringBuilder out, String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        out.append(quote);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == quote || c == '\\') {
                out.append('\\').append(c);
            } else if (c == '\n') {
                out.append("\\n");
            } else if (c == '\r') {
                out.append("\\r");
            } else if (c == '\t') {
                out.append("\\t");
            } else if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\x%02x", (int) c));
            } else if (c >= 0x80 && c <= 0xa0 || c == 0xad) {
                out.append(String.format("\\x%02x", (int) c));
            } else {
                out.append(c);
            }
        }
        out.append(quote);
    }

    // ---- equality and order

    static boolean eq(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null) {
            return false;
        }
        if (isNumeric(a) && isNumeric(b)) {
            if ((isInt(a) || a instanceof Boolean) && (isInt(b) || b instanceof Boolean)) {
                return toLong(a) == toLong(b);
            }
            return toDouble(a) == toDouble(b);
        }
        if (a instanceof String || b instanceof String) {
            return a.equals(b);
        }
        if (a instanceof Tuple ta && b instanceof Tuple tb) {
            return listEq(ta, tb);
        }
        if (a instanceof Tuple || b instanceof Tuple) {
            return false;
        }
        if (a instanceof List<?> la && b instanceof List<?> lb) {
            return listEq(la, lb);
        }
        if (a instanceof Map<?, ?> ma && b instanceof Map<?, ?> mb) {
            if (ma.size() != mb.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : ma.entrySet()) {
                Object key = findKey(mb, e.getKey());
                if (key == NO_KEY || !eq(e.getValue(), mb.get(key))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Undefined || b instanceof Undefined) {
            return a instanceof Undefined && b instanceof Undefined;
        }
        return a.equals(b);
    }

    private static boolean listEq(List<?> a, List<?> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!eq(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    static final Object NO_KEY = new Object();

    /** The key of {@code map} equal to {@code key} in Python's sense (1 == 1.0 == True), or NO_KEY. */
    static Object findKey(Map<?, ?> map, Object key) {
        if (map.containsKey(key)) {
            return key;
        }
        if (key != null && !(key instanceof String)) {
            for (Object k : map.keySet()) {
                if (eq(k, key)) {
                    return k;
                }
            }
        }
        return NO_KEY;
    }

    /** Python's {@code a < b} and friends: -1, 0 or 1, or a TypeError naming the operator. */
    static int compare(Object a, Object b, String op) {
        if (isNumeric(a) && isNumeric(b)) {
            if ((isInt(a) || a instanceof Boolean) && (isInt(b) || b instanceof Boolean)) {
                return Long.compare(toLong(a), toLong(b));
            }
            return Double.compare(toDouble(a), toDouble(b));
        }
        if (a instanceof String sa && b instanceof String sb) {
            return Integer.signum(compareCodePoints(sa, sb));
        }
        if (a instanceof List<?> la && b instanceof List<?> lb && (a instanceof Tuple) == (b instanceof Tuple)) {
            int n = Math.min(la.size(), lb.size());
            for (int i = 0; i < n; i++) {
                if (!eq(la.get(i), lb.get(i))) {
                    return compare(la.get(i), lb.get(i), op);
                }
            }
            return Integer.compare(la.size(), lb.size());
        }
        if (a instanceof Undefined u) {
            throw u.fail();
        }
        if (b instanceof Undefined u) {
            throw u.fail();
        }
        throw TemplateError.type("'" + op + "' not supported between instances of '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    private static int compareCodePoints(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            char x = a.charAt(i);
            char y = b.charAt(i);
            if (x != y) {
                if (Character.isSurrogate(x) || Character.isSurrogate(y)) {
                    return Integer.compare(a.codePointAt(i), b.codePointAt(i));
                }
                return x - y;
            }
        }
        return a.length() - b.length();
    }

    // ---- arithmetic

    static Object add(Object a, Object b) {
        if (a instanceof String sa && b instanceof String sb) {
            return sa.concat(sb);
        }
        if (isNumeric(a) && isNumeric(b)) {
            if (isFloat(a) || isFloat(b)) {
                return toDouble(a) + toDouble(b);
            }
            return exact(() -> Math.addExact(toLong(a), toLong(b)));
        }
        if (a instanceof Tuple ta && b instanceof Tuple tb) {
            List<Object> items = new ArrayList<>(ta);
            items.addAll(tb);
            return new Tuple(items.toArray());
        }
        if (isList(a) && isList(b)) {
            List<Object> items = new ArrayList<>((List<?>) a);
            items.addAll((List<?>) b);
            return items;
        }
        undefinedOperand(a, b);
        if (a instanceof String) {
            throw TemplateError.type("can only concatenate str (not \"" + typeName(b) + "\") to str");
        }
        if (isList(a)) {
            throw TemplateError.type("can only concatenate list (not \"" + typeName(b) + "\") to list");
        }
        throw unsupported("+", a, b);
    }

    static Object sub(Object a, Object b) {
        numbers("-", a, b);
        if (isFloat(a) || isFloat(b)) {
            return toDouble(a) - toDouble(b);
        }
        return exact(() -> Math.subtractExact(toLong(a), toLong(b)));
    }

    static Object mul(Object a, Object b, int maxLength) {
        if (a instanceof String s && (isInt(b) || b instanceof Boolean)) {
            return repeat(s, toLong(b), maxLength);
        }
        if ((isInt(a) || a instanceof Boolean) && b instanceof String s) {
            return repeat(s, toLong(a), maxLength);
        }
        if (a instanceof List<?> l && (isInt(b) || b instanceof Boolean)) {
            return repeatList(l, toLong(b), maxLength);
        }
        if ((isInt(a) || a instanceof Boolean) && b instanceof List<?> l) {
            return repeatList(l, toLong(a), maxLength);
        }
        numbers("*", a, b);
        if (isFloat(a) || isFloat(b)) {
            return toDouble(a) * toDouble(b);
        }
        return exact(() -> Math.multiplyExact(toLong(a), toLong(b)));
    }

    private static String repeat(String s, long times, int maxLength) {
        if (times <= 0 || s.isEmpty()) {
            return "";
        }
        if (times * (double) s.length() > maxLength) {
            throw new TemplateError("LimitError", "string of " + (long) (times * (double) s.length())
                    + " characters exceeds the limit of " + maxLength);
        }
        return s.repeat((int) times);
    }

    private static Object repeatList(List<?> l, long times, int maxLength) {
        List<Object> out = new ArrayList<>();
        if (times * (double) l.size() > maxLength) {
            throw new TemplateError("LimitError", "list of " + (long) (times * (double) l.size())
                    + " items exceeds the limit of " + maxLength);
        }
        for (long i = 0; i < times; i++) {
            out.addAll(l);
        }
        return l instanceof Tuple ? new Tuple(out.toArray()) : out;
    }

    static Object truediv(Object a, Object b) {
        numbers("/", a, b);
        if (toDouble(b) == 0) {
            throw new TemplateError("ZeroDivisionError", "division by zero");
        }
        return toDouble(a) / toDouble(b);
    }

    static Object floordiv(Object a, Object b) {
        numbers("//", a, b);
        if (toDouble(b) == 0) {
            throw new TemplateError("ZeroDivisionError", "integer division or modulo by zero");
        }
        if (isFloat(a) || isFloat(b)) {
            return Math.floor(toDouble(a) / toDouble(b));
        }
        return Math.floorDiv(toLong(a), toLong(b));
    }

    static Object mod(Object a, Object b) {
        if (a instanceof String format) {
            return PyFormat.percent(format, b);
        }
        numbers("%", a, b);
        if (toDouble(b) == 0) {
            throw new TemplateError("ZeroDivisionError", "integer division or modulo by zero");
        }
        if (isFloat(a) || isFloat(b)) {
            double x = toDouble(a);
            double y = toDouble(b);
            double r = x % y;
            return r != 0 && (r < 0) != (y < 0) ? r + y : r;
        }
        return Math.floorMod(toLong(a), toLong(b));
    }

    static Object pow(Object a, Object b) {
        numbers("**", a, b);
        if (isFloat(a) || isFloat(b) || toLong(b) < 0) {
            return Math.pow(toDouble(a), toDouble(b));
        }
        long base = toLong(a);
        long exp = toLong(b);
        long result = 1;
        try {
            for (long i = 0; i < exp; i++) {
                result = Math.multiplyExact(result, base);
            }
        } catch (ArithmeticException e) {
            return exact(() -> {
                throw e;
            });
        }
        return result;
    }

    static Object negate(Object a) {
        if (isFloat(a)) {
            return -toDouble(a);
        }
        if (isInt(a) || a instanceof Boolean) {
            return exact(() -> Math.negateExact(toLong(a)));
        }
        if (a instanceof Undefined u) {
            throw u.fail();
        }
        throw TemplateError.type("bad operand type for unary -: '" + typeName(a) + "'");
    }

    static Object plus(Object a) {
        if (isFloat(a)) {
            return toDouble(a);
        }
        if (isInt(a) || a instanceof Boolean) {
            return toLong(a);
        }
        if (a instanceof Undefined u) {
            throw u.fail();
        }
        throw TemplateError.type("bad operand type for unary +: '" + typeName(a) + "'");
    }

    private interface LongOp {
        long apply();
    }

    private static Object exact(LongOp op) {
        try {
            return op.apply();
        } catch (ArithmeticException e) {
            throw new TemplateError("OverflowError", "integer beyond 64 bits (Python's ints are unbounded; "
                    + "templates here are limited to 64-bit integers)");
        }
    }

    private static void numbers(String op, Object a, Object b) {
        if (!isNumeric(a) || !isNumeric(b)) {
            undefinedOperand(a, b);
            throw unsupported(op, a, b);
        }
    }

    private static void undefinedOperand(Object a, Object b) {
        if (a instanceof Undefined u) {
            throw u.fail();
        }
        if (b instanceof Undefined u) {
            throw u.fail();
        }
    }

    private static TemplateError unsupported(String op, Object a, Object b) {
        return TemplateError.type("unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    // ---- membership and iteration

    static boolean contains(Object container, Object item) {
        switch (container) {
            case String s -> {
                if (item instanceof String sub) {
                    return s.contains(sub);
                }
                if (item instanceof Undefined u) {
                    throw u.fail();
                }
                throw TemplateError.type("'in <string>' requires string as left operand, not " + typeName(item));
            }
            case Map<?, ?> m -> {
                return findKey(m, item) != NO_KEY;
            }
            case Undefined u -> {
                return false;
            }
            case null -> throw TemplateError.type("argument of type 'NoneType' is not iterable");
            default -> {
                if (container instanceof Iterable<?> items) {
                    for (Object x : items) {
                        if (eq(x, item)) {
                            return true;
                        }
                    }
                    return false;
                }
                throw TemplateError.type("argument of type '" + typeName(container) + "' is not iterable");
            }
        }
    }

    /** What {@code for x in v} visits: list items, dict keys, characters; a TypeError for what Python can't. */
    static Iterable<?> iterate(Object v) {
        return switch (v) {
            case Undefined u -> List.of();
            case String s -> chars(s);
            case Map<?, ?> m -> m.keySet();
            case Iterable<?> it -> it;
            case null -> throw TemplateError.type("'NoneType' object is not iterable");
            default -> throw TemplateError.type("'" + typeName(v) + "' object is not iterable");
        };
    }

    static List<Object> list(Object v) {
        List<Object> out = new ArrayList<>();
        for (Object x : iterate(v)) {
            out.add(x);
        }
        return out;
    }

    /** The characters (code points) of a string, each as a string. */
    static List<Object> chars(String s) {
        List<Object> out = new ArrayList<>(s.length());
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int n = Character.charCount(cp);
            out.add(s.substring(i, i + n));
            i += n;
        }
        return out;
    }

    /** Python's {@code len(v)}. */
    static long len(Object v) {
        return switch (v) {
            case String s -> s.codePointCount(0, s.length());
            case java.util.Collection<?> c -> c.size();
            case Map<?, ?> m -> m.size();
            case Undefined u -> 0;
            case null -> throw TemplateError.type("object of type 'NoneType' has no len()");
            default -> throw TemplateError.type("object of type '" + typeName(v) + "' has no len()");
        };
    }

    static String requireString(Object v, String what) {
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof Undefined u) {
            throw u.fail();
        }
        throw TemplateError.type(what + " must be str, not " + typeName(v));
    }
}
