package dev.qwen2j.core.chat;

import dev.qwen2j.core.chat.JinjaNode.*;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Renders a parsed template with Python's semantics and Jinja2's scoping (a loop's or macro's assignments stay
 * inside it; {@code namespace} objects carry values out), inside the sandbox transformers uses: no attribute of
 * a host object is reachable, lists and dicts cannot be modified, and the limits end a render that grows too
 * large, recurses too deep, loops too long or runs too long, with an error instead of a truncated prompt.
 */
final class Interpreter {

    private final TemplateLimits limits;
    private final Supplier<LocalDateTime> clock;
    private final long deadline;
    private final Map<String, Object> globals;
    private long iterations;
    private int depth;
    private int outputChars;

    Interpreter(TemplateLimits limits, Supplier<LocalDateTime> clock) {
        this.limits = limits;
        this.clock = clock;
        this.deadline = System.nanoTime() + limits.timeLimit().toNanos();
        this.globals = TemplateGlobals.create(this);
    }

    TemplateLimits limits() {
        return limits;
    }

    LocalDateTime now() {
        return clock.get();
    }

    /** Variables of one level: the template, a loop body, a macro call. Lookups fall through to the parent. */
    static final class Scope {
        final Map<String, Object> vars = new HashMap<>();
        final Scope parent;

        Scope(Scope parent) {
            this.parent = parent;
        }
    }

    private static final Object MISSING = new Object();

    private static final class LoopSignal extends RuntimeException {
        final boolean isBreak;

        LoopSignal(boolean isBreak) {
            super(null, null, false, false);
            this.isBreak = isBreak;
        }
    }

    private static final LoopSignal BREAK = new LoopSignal(true);
    private static final LoopSignal CONTINUE = new LoopSignal(false);

    String render(List<Stmt> template, Map<String, ?> variables) {
        Scope root = new Scope(null);
        root.vars.putAll(variables);
        StringBuilder out = new StringBuilder();
        execute(template, root, out);
        return out.toString();
    }

    // ---- statements

    void execute(List<Stmt> body, Scope scope, StringBuilder out) {
        for (Stmt s : body) {
            try {
                executeOne(s, scope, out);
            } catch (TemplateError e) {
                throw e.at(s.line());
            }
        }
    }

    private void executeOne(Stmt s, Scope scope, StringBuilder out) {
        switch (s) {
            case Text t -> write(out, t.text());
            case Print p -> write(out, Py.str(eval(p.value(), scope)));
            case If i -> {
                for (int k = 0; k < i.conditions().size(); k++) {
                    if (Py.truthy(eval(i.conditions().get(k), scope))) {
                        execute(i.bodies().get(k), scope, out);
                        return;
                    }
                }
                execute(i.otherwise(), scope, out);
            }
            case For f -> loop(f, eval(f.iterable(), scope), scope, out, 0);
            case JinjaNode.Set set -> assign(set.target(), eval(set.value(), scope), scope);
            case SetBlock sb -> assign(sb.target(), filteredBody(sb.body(), sb.filters(), scope), scope);
            case JinjaNode.Macro m -> scope.vars.put(m.name(), new Macro(m, scope, null));
            case CallBlock cb -> {
                Macro caller = new Macro(new JinjaNode.Macro("caller", cb.params(), cb.body(), true, true, cb.line()),
                        scope, null);
                write(out, Py.str(call(cb.call(), scope, caller)));
            }
            case FilterBlock fb -> write(out, Py.str(filteredBody(fb.body(), fb.filters(), scope)));
            case With w -> {
                Scope inner = new Scope(scope);
                List<Object> values = new ArrayList<>();
                for (Expr v : w.values()) {
                    values.add(eval(v, scope));
                }
                for (int k = 0; k < w.targets().size(); k++) {
                    assign(w.targets().get(k), values.get(k), inner);
                }
                execute(w.body(), inner, out);
            }
            case Break b -> throw BREAK;
            case Continue c -> throw CONTINUE;
            case Block b -> execute(b.body(), b.scoped() ? new Scope(scope) : scope, out);
            case Unsupported u -> throw TemplateError.type("no loader for this environment specified");
        }
    }

    /** A block's rendering passed through its filters ({% set x | f %}, {% filter f %}). */
    private Object filteredBody(List<Stmt> body, List<Filter> filters, Scope scope) {
        StringBuilder text = new StringBuilder();
        execute(body, scope, text);
        Object value = text.toString();
        for (Filter f : filters) {
            value = applyFilter(f, value, scope);
        }
        return value;
    }

    private void write(StringBuilder out, String text) {
        outputChars += text.length();
        if (outputChars > limits.maxOutputChars() || out.length() + text.length() > limits.maxOutputChars()) {
            throw new TemplateError("LimitError", "the rendering exceeds the limit of " + limits.maxOutputChars()
                    + " characters");
        }
        out.append(text);
    }

    /** Guards every step that could repeat without end: a loop iteration, a macro call. */
    void tick() {
        if (++iterations > limits.maxIterations()) {
            throw new TemplateError("LimitError", "more than " + limits.maxIterations()
                    + " loop iterations and calls in one rendering");
        }
        if ((iterations & 255) == 0 && System.nanoTime() > deadline) {
            throw new TemplateError("LimitError", "rendering took longer than the limit of "
                    + limits.timeLimit().toMillis() + " ms");
        }
    }

    private void enter() {
        if (++depth > limits.maxDepth()) {
            depth = 0;
            throw new TemplateError("LimitError", "macro calls or recursive loops nested deeper than "
                    + limits.maxDepth());
        }
    }

    private void loop(For f, Object iterable, Scope scope, StringBuilder out, int loopDepth) {
        List<Object> items = new ArrayList<>();
        Scope filterScope = f.filter() == null ? null : new Scope(scope);
        for (Object item : Py.iterate(iterable)) {
            tick();
            if (filterScope != null) {
                assign(f.target(), item, filterScope);
                if (!Py.truthy(eval(f.filter(), filterScope))) {
                    continue;
                }
            }
            items.add(item);
        }
        LoopContext loop = new LoopContext(items, loopDepth, f, scope, this);
        for (int i = 0; i < items.size(); i++) {
            tick();
            loop.index0 = i;
            Scope inner = new Scope(scope); // what one iteration assigns, the next does not see (as in Jinja2)
            inner.vars.put("loop", loop);
            assign(f.target(), items.get(i), inner);
            try {
                execute(f.body(), inner, out);
            } catch (LoopSignal signal) {
                if (signal.isBreak) {
                    break;
                }
            }
        }
        if (items.isEmpty()) {
            execute(f.otherwise(), scope, out);
        }
    }

    /** {@code loop}: the loop variable, and for a recursive loop the function that renders it one level down. */
    static final class LoopContext implements Py.Callable {
        final List<Object> items;
        final int depth0;
        final For node;
        final Scope scope;
        final Interpreter interpreter;
        int index0;
        private Object lastChanged = MISSING;

        LoopContext(List<Object> items, int depth0, For node, Scope scope, Interpreter interpreter) {
            this.items = items;
            this.depth0 = depth0;
            this.node = node;
            this.scope = scope;
            this.interpreter = interpreter;
        }

        Object attribute(String name) {
            int n = items.size();
            return switch (name) {
                case "index" -> (long) index0 + 1;
                case "index0" -> (long) index0;
                case "revindex" -> (long) (n - index0);
                case "revindex0" -> (long) (n - index0 - 1);
                case "first" -> index0 == 0;
                case "last" -> index0 == n - 1;
                case "length" -> (long) n;
                case "depth" -> (long) depth0 + 1;
                case "depth0" -> (long) depth0;
                case "previtem" -> index0 > 0 ? items.get(index0 - 1) : new Undefined("there is no previous item");
                case "nextitem" -> index0 + 1 < n ? items.get(index0 + 1) : new Undefined("there is no next item");
                case "cycle" -> (Py.Callable) (args, kwargs) -> {
                    if (args.isEmpty()) {
                        throw TemplateError.type("no items for cycling given");
                    }
                    return args.get(index0 % args.size());
                };
                case "changed" -> (Py.Callable) (args, kwargs) -> {
                    Object value = args.size() == 1 ? args.getFirst() : new Py.Tuple(args.toArray());
                    if (lastChanged != MISSING && Py.eq(lastChanged, value)) {
                        return false;
                    }
                    lastChanged = value;
                    return true;
                };
                default -> Undefined.attribute(this, name);
            };
        }

        @Override
        public Object call(List<Object> args, Map<String, Object> kwargs) {
            if (!node.recursive()) {
                throw TemplateError.type("Tried to call non recursive loop.  Maybe you forgot the 'recursive' "
                        + "modifier.");
            }
            if (args.size() != 1) {
                throw TemplateError.type("loop() takes exactly one argument");
            }
            interpreter.enter();
            try {
                StringBuilder out = new StringBuilder();
                interpreter.loop(node, args.getFirst(), scope, out, depth0 + 1);
                return out.toString();
            } finally {
                interpreter.depth--;
            }
        }
    }

    // ---- macros

    final class Macro implements Py.Callable {
        final JinjaNode.Macro node;
        final String name;
        final List<Param> params;
        final List<Stmt> body;
        final Scope closure;
        final Macro caller;

        Macro(JinjaNode.Macro node, Scope closure, Macro caller) {
            this.node = node;
            this.name = node.name();
            this.params = node.params();
            this.body = node.body();
            this.closure = closure;
            this.caller = caller;
        }

        Macro withCaller(Macro caller) {
            return new Macro(node, closure, caller);
        }

        @Override
        public Object call(List<Object> args, Map<String, Object> kwargs) {
            tick();
            enter();
            try {
                Scope scope = new Scope(closure);
                if (args.size() > params.size() && !node.usesVarargs()) {
                    throw TemplateError.type("macro '" + name + "' takes not more than " + params.size()
                            + " argument(s)");
                }
                Map<String, Object> extra = new LinkedHashMap<>(kwargs);
                for (int i = 0; i < params.size(); i++) {
                    Param p = params.get(i);
                    Object value;
                    if (i < args.size()) {
                        value = args.get(i);
                        if (extra.containsKey(p.name())) {
                            throw TemplateError.type("macro '" + name + "' got multiple values for argument '"
                                    + p.name() + "'");
                        }
                    } else if (extra.containsKey(p.name())) {
                        value = extra.remove(p.name());
                    } else if (p.defaultValue() != null) {
                        value = eval(p.defaultValue(), scope);
                    } else {
                        value = new Undefined("parameter '" + p.name() + "' was not provided");
                    }
                    scope.vars.put(p.name(), value);
                }
                if (!extra.isEmpty() && !node.usesKwargs()) {
                    throw TemplateError.type("macro '" + name + "' takes no keyword argument '"
                            + extra.keySet().iterator().next() + "'");
                }
                List<Object> varargs = args.size() > params.size()
                        ? new ArrayList<>(args.subList(params.size(), args.size())) : List.of();
                scope.vars.put("varargs", new Py.Tuple(varargs.toArray()));
                scope.vars.put("kwargs", extra);
                if (caller != null) {
                    scope.vars.put("caller", caller);
                }
                StringBuilder out = new StringBuilder();
                execute(body, scope, out);
                return out.toString();
            } finally {
                depth--;
            }
        }
    }

    // ---- assignment

    private void assign(Expr target, Object value, Scope scope) {
        switch (target) {
            case Name n -> scope.vars.put(n.name(), value);
            case TupleLit t -> {
                List<Object> values = Py.list(value);
                if (values.size() != t.items().size()) {
                    throw new TemplateError("ValueError", values.size() < t.items().size()
                            ? "not enough values to unpack (expected " + t.items().size() + ", got " + values.size() + ")"
                            : "too many values to unpack (expected " + t.items().size() + ")");
                }
                for (int i = 0; i < values.size(); i++) {
                    assign(t.items().get(i), values.get(i), scope);
                }
            }
            case GetAttr g -> {
                Object ns = lookup(((Name) g.target()).name(), scope);
                if (!(ns instanceof Namespace namespace)) {
                    throw new TemplateError("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
                }
                namespace.attributes.put(g.name(), value);
            }
            default -> throw TemplateError.syntax("can't assign to this expression", target.line());
        }
    }

    private Object lookup(String name, Scope scope) {
        for (Scope s = scope; s != null; s = s.parent) {
            Object v = s.vars.getOrDefault(name, MISSING);
            if (v != MISSING) {
                return v;
            }
        }
        Object g = globals.getOrDefault(name, MISSING);
        return g != MISSING ? g : Undefined.variable(name);
    }

    // ---- expressions

    Object eval(Expr e, Scope scope) {
        return switch (e) {
            case Const c -> c.value();
            case Name n -> lookup(n.name(), scope);
            case ListLit l -> {
                List<Object> items = new ArrayList<>(l.items().size());
                for (Expr x : l.items()) {
                    items.add(eval(x, scope));
                }
                yield items;
            }
            case TupleLit t -> {
                Object[] items = new Object[t.items().size()];
                for (int i = 0; i < items.length; i++) {
                    items[i] = eval(t.items().get(i), scope);
                }
                yield new Py.Tuple(items);
            }
            case DictLit d -> {
                Map<Object, Object> map = new LinkedHashMap<>();
                for (int i = 0; i < d.keys().size(); i++) {
                    Object key = eval(d.keys().get(i), scope);
                    if (key instanceof List<?> && !(key instanceof Py.Tuple) || key instanceof Map<?, ?>) {
                        throw TemplateError.type("unhashable type: '" + Py.typeName(key) + "'");
                    }
                    Object existing = Py.findKey(map, key);
                    map.put(existing == Py.NO_KEY ? normalizeKey(key) : existing, eval(d.values().get(i), scope));
                }
                yield map;
            }
            case GetAttr g -> getAttr(eval(g.target(), scope), g.name());
            case GetItem g -> g.key() instanceof SliceExpr s
                    ? slice(eval(g.target(), scope), s, scope)
                    : getItem(eval(g.target(), scope), eval(g.key(), scope));
            case SliceExpr s -> throw TemplateError.type("slice outside of a subscript");
            case Call c -> call(c, scope, null);
            case FilterExpr f -> applyFilter(f.filter(), eval(f.value(), scope), scope);
            case TestExpr t -> {
                Object value = eval(t.value(), scope);
                List<Object> args = new ArrayList<>();
                for (Expr a : t.args()) {
                    args.add(eval(a, scope));
                }
                boolean result = JinjaFilters.test(this, t.name(), value, args);
                yield t.negated() != result;
            }
            case Unary u -> u.op().equals("-") ? Py.negate(eval(u.operand(), scope)) : Py.plus(eval(u.operand(), scope));
            case Binary b -> binary(b.op(), eval(b.left(), scope), eval(b.right(), scope));
            case Compare c -> compare(c, scope);
            case And a -> {
                Object left = eval(a.left(), scope);
                yield Py.truthy(left) ? eval(a.right(), scope) : left;
            }
            case Or o -> {
                Object left = eval(o.left(), scope);
                yield Py.truthy(left) ? left : eval(o.right(), scope);
            }
            case Not n -> !Py.truthy(eval(n.operand(), scope));
            case CondExpr c -> Py.truthy(eval(c.condition(), scope)) ? eval(c.then(), scope)
                    : c.otherwise() == null ? new Undefined("the inline if-expression evaluated to false and no "
                    + "else section was defined.") : eval(c.otherwise(), scope);
            case Concat c -> {
                StringBuilder s = new StringBuilder();
                for (Expr part : c.parts()) {
                    Py.appendStr(s, eval(part, scope));
                    checkLength(s.length());
                }
                yield s.toString();
            }
        };
    }

    private static Object normalizeKey(Object key) {
        return Py.isInt(key) && !(key instanceof Long) ? (Object) ((Number) key).longValue() : key;
    }

    private void checkLength(long length) {
        if (length > limits.maxOutputChars()) {
            throw new TemplateError("LimitError", "a string of " + length + " characters exceeds the limit of "
                    + limits.maxOutputChars());
        }
    }

    private Object binary(String op, Object a, Object b) {
        Object result = switch (op) {
            case "+" -> Py.add(a, b);
            case "-" -> Py.sub(a, b);
            case "*" -> Py.mul(a, b, limits.maxOutputChars());
            case "/" -> Py.truediv(a, b);
            case "//" -> Py.floordiv(a, b);
            case "%" -> Py.mod(a, b);
            case "**" -> Py.pow(a, b);
            default -> throw new IllegalStateException(op);
        };
        if (result instanceof String s) {
            checkLength(s.length());
        } else if (result instanceof List<?> l) {
            checkLength(l.size());
        }
        return result;
    }

    private Object compare(Compare c, Scope scope) {
        Object left = eval(c.first(), scope);
        for (int i = 0; i < c.ops().size(); i++) {
            Object right = eval(c.rest().get(i), scope);
            String op = c.ops().get(i);
            boolean ok = switch (op) {
                case "==" -> Py.eq(left, right);
                case "!=" -> !Py.eq(left, right);
                case "<" -> Py.compare(left, right, op) < 0;
                case "<=" -> Py.compare(left, right, op) <= 0;
                case ">" -> Py.compare(left, right, op) > 0;
                case ">=" -> Py.compare(left, right, op) >= 0;
                case "in" -> Py.contains(right, left);
                case "not in" -> !Py.contains(right, left);
                default -> throw new IllegalStateException(op);
            };
            if (!ok) {
                return false;
            }
            left = right;
        }
        return true;
    }

    /** Jinja2's {@code obj.name}: an attribute (a method of str, list or dict) first, else the item. */
    Object getAttr(Object obj, String name) {
        switch (obj) {
            case null -> {
                return Undefined.attribute(null, name);
            }
            case Undefined u -> throw u.fail();
            case Map<?, ?> m -> {
                Object method = PyMethods.bind(obj, name);
                if (method != null) {
                    return method;
                }
                Object key = Py.findKey(m, name);
                return key != Py.NO_KEY ? m.get(key) : Undefined.attribute(obj, name);
            }
            case Namespace ns -> {
                return ns.attributes.containsKey(name) ? ns.attributes.get(name) : Undefined.attribute(obj, name);
            }
            case LoopContext loop -> {
                return loop.attribute(name);
            }
            case JinjaFilters.Group g when name.equals("grouper") || name.equals("list") -> {
                return name.equals("grouper") ? g.grouper : g.list;
            }
            default -> {
                Object method = PyMethods.bind(obj, name);
                return method != null ? method : Undefined.attribute(obj, name);
            }
        }
    }

    /** Jinja2's {@code obj[key]}: the item first, else for a string key the attribute. */
    Object getItem(Object obj, Object key) {
        switch (obj) {
            case null -> {
                return new Undefined("'None' has no attribute " + Py.repr(key));
            }
            case Undefined u -> throw u.fail();
            case Map<?, ?> m -> {
                Object k = Py.findKey(m, key);
                if (k != Py.NO_KEY) {
                    return m.get(k);
                }
            }
            case String s -> {
                if (Py.isInt(key) || key instanceof Boolean) {
                    List<Object> chars = s.length() == s.codePointCount(0, s.length()) ? null : Py.chars(s);
                    int n = chars == null ? s.length() : chars.size();
                    long i = Py.toLong(key);
                    if (i < 0) {
                        i += n;
                    }
                    if (i >= 0 && i < n) {
                        return chars == null ? String.valueOf(s.charAt((int) i)) : chars.get((int) i);
                    }
                    return new Undefined(Py.describe(obj) + " has no element " + Py.repr(key));
                }
            }
            case List<?> l -> {
                if (Py.isInt(key) || key instanceof Boolean) {
                    long i = Py.toLong(key);
                    if (i < 0) {
                        i += l.size();
                    }
                    if (i >= 0 && i < l.size()) {
                        return l.get((int) i);
                    }
                    return new Undefined(Py.describe(obj) + " has no element " + Py.repr(key));
                }
            }
            case Namespace ns -> {
                if (key instanceof String name && ns.attributes.containsKey(name)) {
                    return ns.attributes.get(name);
                }
            }
            case LoopContext loop -> {
                if (key instanceof String name) {
                    return loop.attribute(name);
                }
            }
            default -> { }
        }
        if (key instanceof String name && !(obj instanceof Namespace)) {
            Object method = PyMethods.bind(obj, name);
            if (method != null) {
                return method;
            }
        }
        return new Undefined(Py.describe(obj) + " has no element " + Py.repr(key));
    }

    private Object slice(Object obj, SliceExpr s, Scope scope) {
        Object start = s.start() == null ? null : eval(s.start(), scope);
        Object stop = s.stop() == null ? null : eval(s.stop(), scope);
        Object step = s.step() == null ? null : eval(s.step(), scope);
        if (obj instanceof Undefined u) {
            throw u.fail();
        }
        List<Object> items;
        if (obj instanceof String str) {
            items = Py.chars(str);
        } else if (obj instanceof List<?> l) {
            items = new ArrayList<>(l);
        } else {
            throw TemplateError.type("'" + Py.typeName(obj) + "' object is not subscriptable");
        }
        List<Object> out = PyMethods.slice(items, start, stop, step);
        if (obj instanceof String) {
            StringBuilder sb = new StringBuilder();
            out.forEach(x -> sb.append((String) x));
            return sb.toString();
        }
        return obj instanceof Py.Tuple ? new Py.Tuple(out.toArray()) : out;
    }

    private Object call(Call c, Scope scope, Macro caller) {
        Object callee = eval(c.callee(), scope);
        List<Object> args = new ArrayList<>();
        Map<String, Object> kwargs = new LinkedHashMap<>();
        arguments(c.args(), c.kwargs(), c.starArgs(), c.starKwargs(), scope, args, kwargs);
        if (callee instanceof Undefined u) {
            throw u.fail();
        }
        if (caller != null) {
            if (!(callee instanceof Macro m)) {
                throw TemplateError.type("a call block must call a macro");
            }
            callee = m.withCaller(caller);
        }
        if (callee instanceof Py.Callable f) {
            return f.call(args, kwargs);
        }
        throw TemplateError.type("'" + Py.typeName(callee) + "' object is not callable");
    }

    private Object applyFilter(Filter f, Object value, Scope scope) {
        List<Object> args = new ArrayList<>();
        Map<String, Object> kwargs = new LinkedHashMap<>();
        arguments(f.args(), f.kwargs(), f.starArgs(), f.starKwargs(), scope, args, kwargs);
        return JinjaFilters.filter(this, f.name(), value, args, kwargs);
    }

    /** Evaluates call arguments, *args and **kwargs included, into {@code args} and {@code kwargs}. */
    private void arguments(List<Expr> positional, List<Arg> keywords, Expr starArgs, Expr starKwargs, Scope scope,
                           List<Object> args, Map<String, Object> kwargs) {
        for (Expr a : positional) {
            args.add(eval(a, scope));
        }
        if (starArgs != null) {
            args.addAll(Py.list(eval(starArgs, scope)));
        }
        for (Arg a : keywords) {
            kwargs.put(a.name(), eval(a.value(), scope));
        }
        if (starKwargs != null) {
            Object extra = eval(starKwargs, scope);
            if (!(extra instanceof Map<?, ?> m)) {
                throw TemplateError.type("argument after ** must be a mapping, not " + Py.typeName(extra));
            }
            m.forEach((k, v) -> kwargs.put(Py.str(k), v));
        }
    }

}
