package dev.qwen2j.core.chat;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Jinja2's built-in filters and tests as its filters.py and tests.py define them, with transformers'
 * {@code tojson} in place of Jinja2's (no HTML escaping; indent, separators, sort_keys, ensure_ascii).
 */
final class JinjaFilters {

    private JinjaFilters() {
    }

    /** Every filter Jinja2 3.1 knows; an unknown name is a TemplateAssertionError when the template compiles. */
    private static final Set<String> FILTERS = Set.of("abs", "attr", "batch", "capitalize", "center", "count", "d",
            "default", "dictsort", "e", "escape", "filesizeformat", "first", "float", "forceescape", "format",
            "groupby", "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min",
            "pprint", "random", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select",
            "selectattr", "slice", "sort", "string", "striptags", "sum", "title", "tojson", "trim", "truncate",
            "unique", "upper", "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr");

    private static final Set<String> TESTS = Set.of("boolean", "callable", "defined", "divisibleby", "eq", "equalto",
            "escaped", "even", "false", "filter", "float", "ge", "greaterthan", "gt", "in", "integer", "iterable",
            "le", "lessthan", "lower", "lt", "mapping", "ne", "none", "number", "odd", "sameas", "sequence", "string",
            "test", "true", "undefined", "upper", "==", "!=", "<", "<=", ">", ">=");

    static boolean exists(String name) {
        return FILTERS.contains(name);
    }

    static boolean testExists(String name) {
        return TESTS.contains(name);
    }

    /** Positional and keyword arguments of one filter call, read as Python binds them. */
    private record Args(String filter, List<Object> positional, Map<String, Object> keywords) {
        Object get(int index, String name, Object otherwise) {
            if (keywords.containsKey(name)) {
                return keywords.get(name);
            }
            return index < positional.size() ? positional.get(index) : otherwise;
        }

        boolean flag(int index, String name) {
            return Py.truthy(get(index, name, false));
        }
    }

    static Object filter(Interpreter in, String name, Object value, List<Object> positional, Map<String, Object> kwargs) {
        Args a = new Args(name, positional, kwargs);
        return switch (name) {
            case "abs" -> {
                if (!Py.isNumeric(value)) {
                    throw TemplateError.type("bad operand type for abs(): '" + Py.typeName(value) + "'");
                }
                yield Py.isFloat(value) ? (Object) Math.abs(Py.toDouble(value)) : (Object) Math.abs(Py.toLong(value));
            }
            case "attr" -> { // Python's getattr only: a dict's keys are not its attributes
                String attribute = Py.str(a.get(0, "name", ""));
                Object method = value instanceof Undefined ? null : PyMethods.bind(value, attribute);
                yield value instanceof Map<?, ?> ? (method != null ? method : Undefined.attribute(value, attribute))
                        : in.getAttr(value, attribute);
            }
            case "batch" -> batch(value, (int) Py.toLong(a.get(0, "linecount", 1L)), a.get(1, "fill_with", null));
            case "capitalize" -> {
                String s = Py.str(value);
                yield s.isEmpty() ? s : s.substring(0, 1).toUpperCase(java.util.Locale.ROOT)
                        + s.substring(1).toLowerCase(java.util.Locale.ROOT);
            }
            case "center" -> PyMethods.pad(Py.str(value), (int) Py.toLong(a.get(0, "width", 80L)), " ", "center");
            case "count", "length" -> Py.len(value);
            case "d", "default" -> {
                Object fallback = a.get(0, "default_value", "");
                yield value instanceof Undefined || a.flag(1, "boolean") && !Py.truthy(value) ? fallback : value;
            }
            case "dictsort" -> dictsort(value, a);
            case "e", "escape", "forceescape" -> escape(Py.str(value));
            case "filesizeformat" -> filesize(Py.toDouble(value), a.flag(0, "binary"));
            case "first" -> {
                for (Object x : Py.iterate(value)) {
                    yield x;
                }
                yield new Undefined("No first item, sequence was empty.");
            }
            case "last" -> {
                if (value instanceof Py.Iter) {
                    throw TemplateError.type("'" + Py.typeName(value) + "' object is not reversible");
                }
                List<Object> items = Py.list(value);
                yield items.isEmpty() ? new Undefined("No last item, sequence was empty.") : items.getLast();
            }
            case "float" -> toFloat(value, a.get(0, "default", 0.0));
            case "int" -> toInt(value, a.get(0, "default", 0L), (int) Py.toLong(a.get(1, "base", 10L)));
            case "format" -> positional.isEmpty() && !kwargs.isEmpty()
                    ? PyFormat.percent(Py.str(value), kwargs)
                    : PyFormat.percent(Py.str(value), new Py.Tuple(positional.toArray()));
            case "groupby" -> groupby(in, value, a);
            case "indent" -> indent(Py.str(value), a.get(0, "width", 4L), a.flag(1, "first"), a.flag(2, "blank"));
            case "items" -> {
                if (value instanceof Undefined) {
                    yield new Py.Iter("generator", List.of());
                }
                if (!(value instanceof Map<?, ?> m)) {
                    throw TemplateError.type("Can only get item pairs from a mapping.");
                }
                List<Object> items = new ArrayList<>();
                m.forEach((k, v) -> items.add(new Py.Tuple(k, v)));
                yield new Py.Iter("generator", items);
            }
            case "join" -> {
                String sep = Py.str(a.get(0, "d", ""));
                Object attribute = a.get(1, "attribute", null);
                StringBuilder out = new StringBuilder();
                boolean first = true;
                for (Object x : Py.iterate(value)) {
                    if (!first) {
                        out.append(sep);
                    }
                    first = false;
                    Py.appendStr(out, attribute == null ? x : attributeOf(in, x, attribute, null));
                }
                yield out.toString();
            }
            case "list" -> Py.list(value);
            case "lower" -> Py.str(value).toLowerCase(java.util.Locale.ROOT);
            case "upper" -> Py.str(value).toUpperCase(java.util.Locale.ROOT);
            case "map" -> map(in, value, positional, kwargs);
            case "max", "min" -> minMax(in, value, a, name.equals("max"));
            case "pprint" -> Py.repr(value);
            case "random" -> {
                List<Object> items = Py.list(value);
                yield items.isEmpty() ? new Undefined("No random item, sequence was empty.")
                        : items.get(java.util.concurrent.ThreadLocalRandom.current().nextInt(items.size()));
            }
            case "select", "reject" -> selectOrReject(in, value, positional, name.equals("select"), false);
            case "selectattr", "rejectattr" -> selectOrReject(in, value, positional, name.equals("selectattr"), true);
            case "replace" -> {
                Object count = a.get(2, "count", null);
                yield PyMethods.replace(Py.str(value), Py.str(a.get(0, "old", "")), Py.str(a.get(1, "new", "")),
                        count == null ? -1 : Py.toLong(count));
            }
            case "reverse" -> {
                if (value instanceof String s) {
                    yield new StringBuilder(s).reverse().toString();
                }
                if (value instanceof List<?> l) {
                    yield new Py.Iter(value instanceof Py.Tuple ? "reversed" : "list_reverseiterator", l.reversed());
                }
                List<Object> items = Py.list(value);
                yield items.reversed();
            }
            case "round" -> round(value, (int) Py.toLong(a.get(0, "precision", 0L)), Py.str(a.get(1, "method", "common")));
            case "safe" -> value;
            case "slice" -> sliceFilter(value, (int) Py.toLong(a.get(0, "slices", 1L)), a.get(1, "fill_with", null));
            case "sort" -> sort(in, value, a);
            case "string" -> Py.str(value);
            case "striptags" -> Py.str(value).replaceAll("(?s)<!--.*?-->|<[^>]*>", "").replaceAll("\\s+", " ").strip();
            case "sum" -> {
                Object attribute = a.get(0, "attribute", null);
                Object total = a.get(1, "start", 0L);
                for (Object x : Py.iterate(value)) {
                    total = Py.add(total, attribute == null ? x : attributeOf(in, x, attribute, null));
                }
                yield total;
            }
            case "title" -> title(Py.str(value));
            case "tojson" -> PythonJson.dumps(value, a.get(1, "indent", null), a.get(2, "separators", null),
                    a.flag(3, "sort_keys"), a.flag(0, "ensure_ascii"));
            case "trim" -> PyMethods.strip(Py.str(value), a.get(0, "chars", null), true, true);
            case "truncate" -> truncate(Py.str(value), (int) Py.toLong(a.get(0, "length", 255L)), a.flag(1, "killwords"),
                    Py.str(a.get(2, "end", "...")), (int) Py.toLong(a.get(3, "leeway", 5L)));
            case "unique" -> unique(in, value, a);
            case "wordcount" -> {
                Matcher m = Pattern.compile("\\w+", Pattern.UNICODE_CHARACTER_CLASS).matcher(Py.str(value));
                long n = 0;
                while (m.find()) {
                    n++;
                }
                yield n;
            }
            case "urlencode" -> java.net.URLEncoder.encode(Py.str(value), java.nio.charset.StandardCharsets.UTF_8)
                    .replace("+", "%20").replace("%2F", "/");
            default -> throw FILTERS.contains(name)
                    ? new TemplateError("TemplateRuntimeError", "the filter '" + name + "' is not supported by qwen2j's "
                    + "template engine")
                    : new TemplateError("TemplateRuntimeError", "No filter named '" + name + "'.");
        };
    }

    // ---- tests

    static boolean test(Interpreter in, String name, Object value, List<Object> args) {
        if (!TESTS.contains(name)) {
            throw new TemplateError("TemplateRuntimeError", "No test named '" + name + "'.");
        }
        Object other = args.isEmpty() ? null : args.getFirst();
        return switch (name) {
            case "defined" -> !(value instanceof Undefined);
            case "undefined" -> value instanceof Undefined;
            case "none" -> value == null;
            case "boolean" -> value instanceof Boolean;
            case "false" -> Boolean.FALSE.equals(value);
            case "true" -> Boolean.TRUE.equals(value);
            case "integer" -> Py.isInt(value);
            case "float" -> Py.isFloat(value);
            case "number" -> Py.isNumeric(value);
            case "string" -> value instanceof String;
            case "mapping" -> value instanceof Map<?, ?>;
            case "iterable" -> value instanceof String || value instanceof Iterable<?> || value instanceof Map<?, ?>;
            case "sequence" -> value instanceof String || value instanceof List<?> || value instanceof Map<?, ?>;
            case "callable" -> value instanceof Py.Callable || value instanceof Undefined;
            case "sameas" -> value == other || value instanceof Boolean && value.equals(other)
                    || Py.isInt(value) && Py.isInt(other) && Py.toLong(value) == Py.toLong(other)
                    && Math.abs(Py.toLong(value)) <= 256;
            case "escaped" -> false;
            case "in" -> Py.contains(other, value);
            case "odd", "even" -> {
                Object r = Py.mod(value, 2L);
                yield name.equals("odd") == (Py.toLong(r) == 1);
            }
            case "divisibleby" -> Py.toLong(Py.mod(value, other)) == 0;
            case "lower" -> {
                String s = Py.str(value);
                yield s.codePoints().anyMatch(Character::isLowerCase) && s.codePoints().noneMatch(Character::isUpperCase);
            }
            case "upper" -> {
                String s = Py.str(value);
                yield s.codePoints().anyMatch(Character::isUpperCase) && s.codePoints().noneMatch(Character::isLowerCase);
            }
            case "eq", "equalto", "==" -> Py.eq(value, other);
            case "ne", "!=" -> !Py.eq(value, other);
            case "lt", "lessthan", "<" -> Py.compare(value, other, "<") < 0;
            case "le", "<=" -> Py.compare(value, other, "<=") <= 0;
            case "gt", "greaterthan", ">" -> Py.compare(value, other, ">") > 0;
            case "ge", ">=" -> Py.compare(value, other, ">=") >= 0;
            case "filter" -> value instanceof String s && FILTERS.contains(s);
            case "test" -> value instanceof String s && TESTS.contains(s);
            default -> throw new IllegalStateException(name);
        };
    }

    // ---- helpers

    /** Jinja2's make_attrgetter: "a.b.0" walks attributes and integer items. */
    private static Object attributeOf(Interpreter in, Object item, Object attribute, Object fallback) {
        if (Py.isInt(attribute)) {
            return in.getItem(item, attribute);
        }
        Object v = item;
        for (String part : Py.str(attribute).split("\\.")) {
            Object key = part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? (Object) Long.parseLong(part) : part;
            v = in.getItem(v, key);
            if (v instanceof Undefined && fallback != null) {
                return fallback;
            }
        }
        return v;
    }

    private static Object sortKey(Object v, boolean caseSensitive) {
        return !caseSensitive && v instanceof String s ? s.toLowerCase(java.util.Locale.ROOT) : v;
    }

    private static final Comparator<Object> PYTHON_ORDER = (x, y) -> Py.compare(x, y, "<");

    private static Object dictsort(Object value, Args a) {
        if (!(value instanceof Map<?, ?> m)) {
            throw TemplateError.type("'" + Py.typeName(value) + "' object has no attribute 'items'");
        }
        boolean caseSensitive = a.flag(0, "case_sensitive");
        String by = Py.str(a.get(1, "by", "key"));
        int pos = switch (by) {
            case "key" -> 0;
            case "value" -> 1;
            default -> throw new TemplateError("FilterArgumentError", "You can only sort by either \"key\" or \"value\"");
        };
        List<Object> items = new ArrayList<>();
        m.forEach((k, v) -> items.add(new Py.Tuple(k, v)));
        Comparator<Object> order = Comparator.comparing(t -> sortKey(((Py.Tuple) t).items[pos], caseSensitive), PYTHON_ORDER);
        items.sort(a.flag(2, "reverse") ? order.reversed() : order);
        return items;
    }

    private static Object sort(Interpreter in, Object value, Args a) {
        boolean reverse = a.flag(0, "reverse");
        boolean caseSensitive = a.flag(1, "case_sensitive");
        Object attribute = a.get(2, "attribute", null);
        List<Object> items = Py.list(value);
        List<String> attributes = attribute == null ? List.of() : List.of(Py.str(attribute).split(","));
        Comparator<Object> order = (x, y) -> {
            // Jinja2 sorts by a list of keys, and Python compares lists item by item with == first
            if (attributes.isEmpty()) {
                return listOrder(sortKey(x, caseSensitive), sortKey(y, caseSensitive));
            }
            for (String attr : attributes) {
                int c = listOrder(sortKey(attributeOf(in, x, attr.strip(), null), caseSensitive),
                        sortKey(attributeOf(in, y, attr.strip(), null), caseSensitive));
                if (c != 0) {
                    return c;
                }
            }
            return 0;
        };
        items.sort(reverse ? order.reversed() : order);
        return items;
    }

    private static int listOrder(Object a, Object b) {
        return Py.eq(a, b) ? 0 : Py.compare(a, b, "<");
    }

    private static Object unique(Interpreter in, Object value, Args a) {
        boolean caseSensitive = a.flag(0, "case_sensitive");
        Object attribute = a.get(1, "attribute", null);
        List<Object> seen = new ArrayList<>();
        List<Object> out = new ArrayList<>();
        for (Object x : Py.iterate(value)) {
            Object key = sortKey(attribute == null ? x : attributeOf(in, x, attribute, null), caseSensitive);
            if (!Py.contains(seen, key)) {
                seen.add(key);
                out.add(x);
            }
        }
        return new Py.Iter("generator", out);
    }

    private static Object minMax(Interpreter in, Object value, Args a, boolean max) {
        boolean caseSensitive = a.flag(0, "case_sensitive");
        Object attribute = a.get(1, "attribute", null);
        Object best = null;
        Object bestKey = null;
        boolean any = false;
        for (Object x : Py.iterate(value)) {
            Object key = sortKey(attribute == null ? x : attributeOf(in, x, attribute, null), caseSensitive);
            if (!any || (max ? Py.compare(key, bestKey, ">") > 0 : Py.compare(key, bestKey, "<") < 0)) {
                best = x;
                bestKey = key;
                any = true;
            }
        }
        return any ? best : new Undefined("No aggregated item, sequence was empty.");
    }

    private static Object map(Interpreter in, Object value, List<Object> positional, Map<String, Object> kwargs) {
        List<Object> out = new ArrayList<>();
        if (positional.isEmpty() && kwargs.containsKey("attribute")) {
            Object attribute = kwargs.get("attribute");
            Object fallback = kwargs.get("default");
            for (Object x : Py.iterate(value)) {
                Object v = attributeOf(in, x, attribute, null);
                out.add(v instanceof Undefined && kwargs.containsKey("default") ? fallback : v);
            }
        } else {
            if (positional.isEmpty()) {
                throw new TemplateError("FilterArgumentError", "map requires a filter argument");
            }
            String filter = Py.str(positional.getFirst());
            if (!FILTERS.contains(filter)) {
                throw new TemplateError("TemplateRuntimeError", "No filter named '" + filter + "'.");
            }
            List<Object> rest = positional.subList(1, positional.size());
            for (Object x : Py.iterate(value)) {
                out.add(filter(in, filter, x, rest, kwargs));
            }
        }
        return new Py.Iter("generator", out);
    }

    private static Object selectOrReject(Interpreter in, Object value, List<Object> positional, boolean select,
                                         boolean byAttribute) {
        int first = byAttribute ? 1 : 0;
        Object attribute = byAttribute ? positional.getFirst() : null;
        String test = positional.size() > first ? Py.str(positional.get(first)) : null;
        List<Object> testArgs = positional.size() > first + 1 ? positional.subList(first + 1, positional.size()) : List.of();
        List<Object> out = new ArrayList<>();
        for (Object x : Py.iterate(value)) {
            Object v = byAttribute ? attributeOf(in, x, attribute, null) : x;
            boolean passes = test == null ? Py.truthy(v) : test(in, test, v, testArgs);
            if (passes == select) {
                out.add(x);
            }
        }
        return new Py.Iter("generator", out);
    }

    private static Object groupby(Interpreter in, Object value, Args a) {
        Object attribute = a.get(0, "attribute", null);
        Object fallback = a.get(1, "default", null);
        boolean caseSensitive = a.flag(2, "case_sensitive");
        List<Object> items = Py.list(value);
        Comparator<Object> order = Comparator.comparing(x -> sortKey(attributeOf(in, x, attribute, fallback), caseSensitive),
                PYTHON_ORDER);
        items.sort(order);
        List<Object> groups = new ArrayList<>();
        Object currentKey = null;
        List<Object> current = null;
        for (Object x : items) {
            Object key = attributeOf(in, x, attribute, fallback);
            if (current == null || !Py.eq(sortKey(key, caseSensitive), sortKey(currentKey, caseSensitive))) {
                current = new ArrayList<>();
                currentKey = key;
                groups.add(new Group(key, current));
            }
            current.add(x);
        }
        return groups;
    }

    /** groupby's (grouper, list) namedtuple. */
    static final class Group extends java.util.AbstractList<Object> {
        final Object grouper;
        final List<Object> list;

        Group(Object grouper, List<Object> list) {
            this.grouper = grouper;
            this.list = list;
        }

        @Override
        public Object get(int index) {
            return index == 0 ? grouper : list;
        }

        @Override
        public int size() {
            return 2;
        }
    }

    private static Object batch(Object value, int size, Object fill) {
        List<Object> out = new ArrayList<>();
        List<Object> row = new ArrayList<>();
        for (Object x : Py.iterate(value)) {
            row.add(x);
            if (row.size() == size) {
                out.add(row);
                row = new ArrayList<>();
            }
        }
        if (!row.isEmpty()) {
            if (fill != null) {
                while (row.size() < size) {
                    row.add(fill);
                }
            }
            out.add(row);
        }
        return new Py.Iter("generator", out);
    }

    private static Object sliceFilter(Object value, int slices, Object fill) {
        List<Object> seq = Py.list(value);
        int length = seq.size();
        int perSlice = length / slices;
        int withExtra = length % slices;
        int offset = 0;
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < slices; i++) {
            int start = offset + i * perSlice;
            if (i < withExtra) {
                offset++;
            }
            int end = offset + (i + 1) * perSlice;
            List<Object> part = new ArrayList<>(seq.subList(start, end));
            if (fill != null && i >= withExtra) {
                part.add(fill);
            }
            out.add(part);
        }
        return new Py.Iter("generator", out);
    }

    private static String indent(String s, Object width, boolean first, boolean blank) {
        String indention = width instanceof String w ? w : " ".repeat((int) Math.max(0, Py.toLong(width)));
        List<Object> lines = PyMethods.splitlines(s + "\n", false);
        StringBuilder rv = new StringBuilder();
        if (blank) {
            for (int i = 0; i < lines.size(); i++) {
                if (i > 0) {
                    rv.append('\n').append(indention);
                }
                rv.append((String) lines.get(i));
            }
        } else {
            rv.append((String) lines.getFirst());
            if (lines.size() > 1) {
                rv.append('\n');
                for (int i = 1; i < lines.size(); i++) {
                    if (i > 1) {
                        rv.append('\n');
                    }
                    String line = (String) lines.get(i);
                    rv.append(line.isEmpty() ? line : indention + line);
                }
            }
        }
        return first ? indention + rv : rv.toString();
    }

    private static String truncate(String s, int length, boolean killwords, String end, int leeway) {
        if (length < end.length()) {
            throw new TemplateError("AssertionError", "expected length >= " + end.length() + ", got " + length);
        }
        List<Object> chars = Py.chars(s);
        if (chars.size() <= length + leeway) {
            return s;
        }
        StringBuilder head = new StringBuilder();
        chars.subList(0, length - end.length()).forEach(c -> head.append((String) c));
        if (killwords) {
            return head + end;
        }
        String kept = head.toString();
        int space = kept.lastIndexOf(' ');
        return (space < 0 ? kept : kept.substring(0, space)) + end;
    }

    private static final Pattern WORD_BEGINNING = Pattern.compile("([-\\s({\\[<]+)");

    private static String title(String s) {
        StringBuilder out = new StringBuilder();
        Matcher m = WORD_BEGINNING.matcher(s);
        int last = 0;
        while (m.find()) {
            titleWord(out, s.substring(last, m.start()));
            out.append(m.group());
            last = m.end();
        }
        titleWord(out, s.substring(last));
        return out.toString();
    }

    private static void titleWord(StringBuilder out, String word) {
        if (!word.isEmpty()) {
            int first = word.codePointAt(0);
            int n = Character.charCount(first);
            out.append(word.substring(0, n).toUpperCase(java.util.Locale.ROOT))
                    .append(word.substring(n).toLowerCase(java.util.Locale.ROOT));
        }
    }

    private static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&#34;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static String filesize(double bytes, boolean binary) {
        double base = binary ? 1024 : 1000;
        String[] prefixes = binary ? new String[]{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"}
                : new String[]{"kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
        if (bytes == 1) {
            return "1 Byte";
        }
        if (bytes < base) {
            return (long) bytes + " Bytes";
        }
        String unit = prefixes[0];
        double shown = bytes / base;
        for (int i = 0; i < prefixes.length; i++) {
            double u = Math.pow(base, i + 2);
            unit = prefixes[i];
            if (bytes < u) {
                shown = base * bytes / u;
                break;
            }
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", shown, unit);
    }

    private static Object toFloat(Object value, Object fallback) {
        if (Py.isNumeric(value)) {
            return Py.toDouble(value);
        }
        if (value instanceof String s) {
            try {
                return parsePythonFloat(s.strip());
            } catch (NumberFormatException e) {
                return fallback;
            }
        }
        return fallback;
    }

    private static double parsePythonFloat(String s) {
        String t = s.replace("_", "").toLowerCase(java.util.Locale.ROOT);
        return switch (t) {
            case "inf", "+inf", "infinity", "+infinity" -> Double.POSITIVE_INFINITY;
            case "-inf", "-infinity" -> Double.NEGATIVE_INFINITY;
            case "nan", "+nan", "-nan" -> Double.NaN;
            default -> {
                if (!t.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)(e[+-]?\\d+)?")) {
                    throw new NumberFormatException(s);
                }
                yield Double.parseDouble(t);
            }
        };
    }

    private static Object toInt(Object value, Object fallback, int base) {
        if (Py.isInt(value) || value instanceof Boolean) {
            return Py.toLong(value);
        }
        if (Py.isFloat(value)) {
            double d = Py.toDouble(value);
            return Double.isFinite(d) ? (Object) (long) d : fallback;
        }
        if (value instanceof String s) {
            String t = s.strip().replace("_", "");
            try {
                String digits = t;
                int radix = base;
                boolean negative = digits.startsWith("-");
                if (negative || digits.startsWith("+")) {
                    digits = digits.substring(1);
                }
                String lower = digits.toLowerCase(java.util.Locale.ROOT);
                if ((base == 16 || base == 0) && lower.startsWith("0x")) {
                    digits = digits.substring(2);
                    radix = 16;
                } else if ((base == 8 || base == 0) && lower.startsWith("0o")) {
                    digits = digits.substring(2);
                    radix = 8;
                } else if ((base == 2 || base == 0) && lower.startsWith("0b")) {
                    digits = digits.substring(2);
                    radix = 2;
                } else if (base == 0) {
                    radix = 10;
                }
                if (digits.isEmpty() || digits.startsWith("-") || digits.startsWith("+")) {
                    throw new NumberFormatException(s);
                }
                long v = Long.parseLong(digits, radix);
                return negative ? -v : v;
            } catch (NumberFormatException e) {
                try {
                    double d = parsePythonFloat(t);
                    return Double.isFinite(d) ? (Object) (long) d : fallback;
                } catch (NumberFormatException e2) {
                    return fallback;
                }
            }
        }
        return fallback;
    }

    private static Object round(Object value, int precision, String method) {
        double d = Py.toDouble(value);
        if (!Double.isFinite(d)) {
            return d;
        }
        return switch (method) {
            case "common" -> new BigDecimal(d).setScale(precision, RoundingMode.HALF_EVEN).doubleValue();
            case "ceil" -> Math.ceil(d * Math.pow(10, precision)) / Math.pow(10, precision);
            case "floor" -> Math.floor(d * Math.pow(10, precision)) / Math.pow(10, precision);
            default -> throw new TemplateError("FilterArgumentError", "method must be common, ceil or floor");
        };
    }
}
