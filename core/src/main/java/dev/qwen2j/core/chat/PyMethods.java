package dev.qwen2j.core.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The methods of str, list and dict that templates call ({@code content.split('</think>')},
 * {@code message.get('k')}, {@code text.startswith(...)}), with Python's behaviour. Methods that modify a list
 * or dict are refused as transformers' ImmutableSandboxedEnvironment refuses them.
 */
final class PyMethods {

    private PyMethods() {
    }

    private static final Set<String> LIST_MUTATORS = Set.of("append", "clear", "extend", "insert", "pop", "remove",
            "reverse", "sort");
    private static final Set<String> DICT_MUTATORS = Set.of("clear", "pop", "popitem", "setdefault", "update");

    /** The bound method {@code obj.name}, an unsafe-attribute undefined, or null when there is none. */
    static Object bind(Object obj, String name) {
        if (name.startsWith("_")) {
            return new Undefined("access to attribute " + Py.repr(name) + " of " + Py.repr(Py.typeName(obj))
                    + " object is unsafe.", "SecurityError");
        }
        switch (obj) {
            case String s -> {
                return STRING_METHODS.contains(name) ? (Py.Callable) (args, kwargs) -> stringMethod(s, name, args, kwargs) : null;
            }
            case Map<?, ?> m -> {
                if (DICT_MUTATORS.contains(name)) {
                    return unsafe(obj, name);
                }
                return switch (name) {
                    case "get", "items", "keys", "values", "copy" ->
                            (Py.Callable) (args, kwargs) -> dictMethod(m, name, args, kwargs);
                    default -> null;
                };
            }
            case List<?> l -> {
                if (LIST_MUTATORS.contains(name) && !(obj instanceof Py.Tuple)) {
                    return unsafe(obj, name);
                }
                return switch (name) {
                    case "index", "count", "copy" -> (Py.Callable) (args, kwargs) -> listMethod(l, name, args);
                    default -> null;
                };
            }
            default -> {
                return null;
            }
        }
    }

    private static Undefined unsafe(Object obj, String name) {
        return new Undefined("access to attribute " + Py.repr(name) + " of " + Py.repr(Py.typeName(obj))
                + " object is unsafe.", "SecurityError");
    }

    private static final Set<String> STRING_METHODS = Set.of("strip", "lstrip", "rstrip", "split", "rsplit",
            "splitlines", "startswith", "endswith", "upper", "lower", "title", "capitalize", "replace", "find",
            "rfind", "index", "rindex", "count", "join", "format", "isdigit", "isalpha", "isalnum", "isspace",
            "isupper", "islower", "isnumeric", "isdecimal", "istitle", "zfill", "center", "ljust", "rjust",
            "partition", "rpartition", "casefold", "swapcase", "removeprefix", "removesuffix", "expandtabs");

    private static Object arg(List<Object> args, int i, Object otherwise) {
        return i < args.size() ? args.get(i) : otherwise;
    }

    private static void noKeywords(String method, Map<String, Object> kwargs) {
        if (!kwargs.isEmpty()) {
            throw TemplateError.type("str." + method + "() takes no keyword arguments");
        }
    }

    private static Object stringMethod(String s, String name, List<Object> args, Map<String, Object> kwargs) {
        switch (name) {
            case "split", "rsplit" -> {
                Object sep = kwargs.containsKey("sep") ? kwargs.get("sep") : arg(args, 0, null);
                Object max = kwargs.containsKey("maxsplit") ? kwargs.get("maxsplit") : arg(args, 1, -1L);
                return split(s, sep == null ? null : Py.requireString(sep, "separator"), Py.toLong(max),
                        name.equals("rsplit"));
            }
            case "format" -> {
                return PyFormat.format(s, args, kwargs);
            }
            default -> noKeywords(name, kwargs);
        }
        return switch (name) {
            case "strip" -> strip(s, arg(args, 0, null), true, true);
            case "lstrip" -> strip(s, arg(args, 0, null), true, false);
            case "rstrip" -> strip(s, arg(args, 0, null), false, true);
            case "splitlines" -> splitlines(s, Py.truthy(arg(args, 0, false)));
            case "startswith", "endswith" -> {
                Object prefix = arg(args, 0, null);
                String target = window(s, args);
                List<Object> options = prefix instanceof Py.Tuple t ? t : List.of(prefix == null ? "" : prefix);
                for (Object p : options) {
                    String text = Py.requireString(p, name + " first arg");
                    if (name.equals("startswith") ? target.startsWith(text) : target.endsWith(text)) {
                        yield true;
                    }
                }
                if (!(prefix instanceof String) && !(prefix instanceof Py.Tuple)) {
                    throw TemplateError.type(name + " first arg must be str or a tuple of str, not " + Py.typeName(prefix));
                }
                yield false;
            }
            case "upper" -> s.toUpperCase(java.util.Locale.ROOT);
            case "lower" -> s.toLowerCase(java.util.Locale.ROOT);
            case "casefold" -> s.toLowerCase(java.util.Locale.ROOT);
            case "swapcase" -> {
                StringBuilder out = new StringBuilder();
                s.codePoints().forEach(cp -> out.appendCodePoint(Character.isUpperCase(cp) ? Character.toLowerCase(cp)
                        : Character.isLowerCase(cp) ? Character.toUpperCase(cp) : cp));
                yield out.toString();
            }
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s
                    : s.substring(0, 1).toUpperCase(java.util.Locale.ROOT) + s.substring(1).toLowerCase(java.util.Locale.ROOT);
            case "replace" -> replace(s, Py.requireString(arg(args, 0, null), "replace() argument 1"),
                    Py.requireString(arg(args, 1, null), "replace() argument 2"), Py.toLong(arg(args, 2, -1L)));
            case "find", "index" -> {
                int i = s.indexOf(Py.requireString(arg(args, 0, null), "must be str"));
                if (i < 0 && name.equals("index")) {
                    throw new TemplateError("ValueError", "substring not found");
                }
                yield (long) (i < 0 ? -1 : s.codePointCount(0, i));
            }
            case "rfind", "rindex" -> {
                int i = s.lastIndexOf(Py.requireString(arg(args, 0, null), "must be str"));
                if (i < 0 && name.equals("rindex")) {
                    throw new TemplateError("ValueError", "substring not found");
                }
                yield (long) (i < 0 ? -1 : s.codePointCount(0, i));
            }
            case "count" -> {
                String sub = Py.requireString(arg(args, 0, null), "must be str");
                if (sub.isEmpty()) {
                    yield (long) s.codePointCount(0, s.length()) + 1;
                }
                long n = 0;
                for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
                    n++;
                }
                yield n;
            }
            case "join" -> {
                StringBuilder out = new StringBuilder();
                boolean first = true;
                int index = 0;
                for (Object item : Py.iterate(arg(args, 0, null))) {
                    if (!(item instanceof String str)) {
                        throw TemplateError.type("sequence item " + index + ": expected str instance, "
                                + Py.typeName(item) + " found");
                    }
                    if (!first) {
                        out.append(s);
                    }
                    first = false;
                    out.append(str);
                    index++;
                }
                yield out.toString();
            }
            case "isdigit", "isnumeric", "isdecimal" -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "isspace" -> !s.isEmpty() && s.chars().allMatch(c -> JinjaLexer.isPythonSpace((char) c));
            case "isupper" -> s.codePoints().anyMatch(Character::isUpperCase) && s.codePoints().noneMatch(Character::isLowerCase);
            case "islower" -> s.codePoints().anyMatch(Character::isLowerCase) && s.codePoints().noneMatch(Character::isUpperCase);
            case "istitle" -> !s.isEmpty() && s.equals(title(s)) && s.codePoints().anyMatch(Character::isLetter);
            case "zfill" -> {
                int width = (int) Py.toLong(arg(args, 0, 0L));
                int n = s.codePointCount(0, s.length());
                if (n >= width) {
                    yield s;
                }
                boolean sign = !s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+');
                yield sign ? s.charAt(0) + "0".repeat(width - n) + s.substring(1) : "0".repeat(width - n) + s;
            }
            case "center", "ljust", "rjust" -> {
                int width = (int) Py.toLong(arg(args, 0, 0L));
                String fill = Py.str(arg(args, 1, " "));
                yield pad(s, width, fill, name);
            }
            case "partition", "rpartition" -> {
                String sep = Py.requireString(arg(args, 0, null), "must be str");
                int i = name.equals("partition") ? s.indexOf(sep) : s.lastIndexOf(sep);
                if (i < 0) {
                    yield name.equals("partition") ? new Py.Tuple(s, "", "") : new Py.Tuple("", "", s);
                }
                yield new Py.Tuple(s.substring(0, i), sep, s.substring(i + sep.length()));
            }
            case "removeprefix" -> {
                String p = Py.requireString(arg(args, 0, null), "must be str");
                yield s.startsWith(p) ? s.substring(p.length()) : s;
            }
            case "removesuffix" -> {
                String p = Py.requireString(arg(args, 0, null), "must be str");
                yield s.endsWith(p) && !p.isEmpty() ? s.substring(0, s.length() - p.length()) : s;
            }
            case "expandtabs" -> s.replace("\t", " ".repeat((int) Py.toLong(arg(args, 0, 8L))));
            default -> throw new IllegalStateException(name);
        };
    }

    static List<Object> splitlines(String s, boolean keep) {
        List<Object> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\n' || c == '\r' || c == '\u000b' || c == '\f' || c == '\u001c' || c == '\u001d'
                    || c == '\u001e' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                int end = i;
                if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
                    i++;
                }
                out.add(s.substring(start, keep ? i + 1 : end));
                start = i + 1;
            }
        }
        if (start < s.length()) {
            out.add(s.substring(start));
        }
        return out;
    }

    private static String window(String s, List<Object> args) {
        if (args.size() <= 1) {
            return s;
        }
        List<Object> chars = Py.chars(s);
        List<Object> part = slice(chars, arg(args, 1, null), arg(args, 2, null), null);
        StringBuilder out = new StringBuilder();
        part.forEach(c -> out.append((String) c));
        return out.toString();
    }

    static String pad(String s, int width, String fill, String how) {
        int n = s.codePointCount(0, s.length());
        if (n >= width) {
            return s;
        }
        int total = width - n;
        int left = switch (how) {
            case "ljust" -> 0;
            case "rjust" -> total;
            default -> total / 2 + (total & width & 1);
        };
        return fill.repeat(left) + s + fill.repeat(total - left);
    }

    static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            boolean cased = Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
            out.appendCodePoint(previousCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
            previousCased = cased;
            i += Character.charCount(cp);
        }
        return out.toString();
    }

    static String strip(String s, Object chars, boolean left, boolean right) {
        String set = chars == null ? null : Py.requireString(chars, "strip arg");
        int start = 0;
        int end = s.length();
        if (left) {
            while (start < end && stripped(s.charAt(start), set)) {
                start++;
            }
        }
        if (right) {
            while (end > start && stripped(s.charAt(end - 1), set)) {
                end--;
            }
        }
        return s.substring(start, end);
    }

    private static boolean stripped(char c, String set) {
        return set == null ? JinjaLexer.isPythonSpace(c) : set.indexOf(c) >= 0;
    }

    static String replace(String s, String old, String replacement, long count) {
        if (count < 0) {
            if (old.isEmpty()) {
                return replaceEmpty(s, replacement, Long.MAX_VALUE);
            }
            return s.replace(old, replacement);
        }
        if (old.isEmpty()) {
            return replaceEmpty(s, replacement, count);
        }
        StringBuilder out = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count; n++) {
            int i = s.indexOf(old, from);
            if (i < 0) {
                break;
            }
            out.append(s, from, i).append(replacement);
            from = i + old.length();
        }
        return out.append(s, from, s.length()).toString();
    }

    private static String replaceEmpty(String s, String replacement, long count) {
        StringBuilder out = new StringBuilder();
        long n = 0;
        List<Object> chars = Py.chars(s);
        for (Object c : chars) {
            if (n++ < count) {
                out.append(replacement);
            }
            out.append((String) c);
        }
        if (n < count) {
            out.append(replacement);
        }
        return out.toString();
    }

    /** Python's str.split / rsplit, with None meaning runs of whitespace. */
    static List<Object> split(String s, String sep, long maxSplit, boolean fromRight) {
        List<Object> out = new ArrayList<>();
        long max = maxSplit < 0 ? Long.MAX_VALUE : maxSplit;
        if (sep == null) {
            List<int[]> words = new ArrayList<>();
            int i = 0;
            while (i < s.length()) {
                while (i < s.length() && JinjaLexer.isPythonSpace(s.charAt(i))) {
                    i++;
                }
                if (i >= s.length()) {
                    break;
                }
                int start = i;
                while (i < s.length() && !JinjaLexer.isPythonSpace(s.charAt(i))) {
                    i++;
                }
                words.add(new int[]{start, i});
            }
            if (words.isEmpty()) {
                return out;
            }
            if ((long) words.size() - 1 <= max) {
                words.forEach(w -> out.add(s.substring(w[0], w[1])));
                return out;
            }
            if (!fromRight) {
                for (int k = 0; k < max; k++) {
                    out.add(s.substring(words.get(k)[0], words.get(k)[1]));
                }
                out.add(s.substring(words.get((int) max)[0]));
            } else {
                int firstKept = words.size() - (int) max;
                out.add(s.substring(0, words.get(firstKept - 1)[1]));
                for (int k = firstKept; k < words.size(); k++) {
                    out.add(s.substring(words.get(k)[0], words.get(k)[1]));
                }
            }
            return out;
        }
        if (sep.isEmpty()) {
            throw new TemplateError("ValueError", "empty separator");
        }
        if (!fromRight) {
            int from = 0;
            for (long n = 0; n < max; n++) {
                int i = s.indexOf(sep, from);
                if (i < 0) {
                    break;
                }
                out.add(s.substring(from, i));
                from = i + sep.length();
            }
            out.add(s.substring(from));
            return out;
        }
        int end = s.length();
        for (long n = 0; n < max; n++) {
            int i = s.lastIndexOf(sep, end - sep.length());
            if (i < 0) {
                break;
            }
            out.addFirst(s.substring(i + sep.length(), end));
            end = i;
        }
        out.addFirst(s.substring(0, end));
        return out;
    }

    private static Object dictMethod(Map<?, ?> m, String name, List<Object> args, Map<String, Object> kwargs) {
        return switch (name) {
            case "get" -> {
                Object key = Py.findKey(m, arg(args, 0, null));
                yield key != Py.NO_KEY ? m.get(key) : arg(args, 1, null);
            }
            case "items" -> {
                List<Object> items = new ArrayList<>(m.size());
                m.forEach((k, v) -> items.add(new Py.Tuple(k, v)));
                yield items;
            }
            case "keys" -> new ArrayList<>(m.keySet());
            case "values" -> new ArrayList<>(m.values());
            case "copy" -> new java.util.LinkedHashMap<>(m);
            default -> throw new IllegalStateException(name);
        };
    }

    private static Object listMethod(List<?> l, String name, List<Object> args) {
        return switch (name) {
            case "index" -> {
                for (int i = 0; i < l.size(); i++) {
                    if (Py.eq(l.get(i), arg(args, 0, null))) {
                        yield (long) i;
                    }
                }
                throw new TemplateError("ValueError", Py.repr(arg(args, 0, null)) + " is not in list");
            }
            case "count" -> {
                long n = 0;
                for (Object x : l) {
                    if (Py.eq(x, arg(args, 0, null))) {
                        n++;
                    }
                }
                yield n;
            }
            case "copy" -> new ArrayList<>(l);
            default -> throw new IllegalStateException(name);
        };
    }

    /** Python's {@code items[start:stop:step]}; null bounds are omitted ones. */
    static List<Object> slice(List<Object> items, Object startArg, Object stopArg, Object stepArg) {
        int n = items.size();
        long step = stepArg == null ? 1 : index(stepArg);
        if (step == 0) {
            throw new TemplateError("ValueError", "slice step cannot be zero");
        }
        long start = startArg == null ? (step > 0 ? 0 : n - 1) : clamp(index(startArg), n, step);
        long stop = stopArg == null ? (step > 0 ? n : -1) : clamp(index(stopArg), n, step);
        List<Object> out = new ArrayList<>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
            out.add(items.get((int) i));
        }
        return out;
    }

    private static long index(Object v) {
        if (Py.isInt(v) || v instanceof Boolean) {
            return Py.toLong(v);
        }
        throw TemplateError.type("slice indices must be integers or None or have an __index__ method");
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
