package dev.qwen2j.core.chat;

import dev.qwen2j.core.chat.JinjaLexer.Kind;
import dev.qwen2j.core.chat.JinjaLexer.Token;
import dev.qwen2j.core.chat.JinjaNode.*;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Jinja2's grammar, rule for rule as its parser.py has it (precedence, tuples, tests without parentheses,
 * implicit string concatenation, keywords usable as names), with the extensions transformers enables:
 * {@code break}/{@code continue} (loopcontrols) and {@code {% generation %}}. What Jinja2 rejects when it
 * compiles (an unknown tag or filter, an assignment to a constant, {@code break} outside a loop) is rejected here.
 */
final class JinjaParser {

    private static final Set<String> COMPARE = Set.of("==", "!=", "<", ">", "<=", ">=");

    private final List<Token> tokens;
    private int pos;
    private int loopDepth;

    private JinjaParser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Stmt> parse(String source) {
        JinjaParser parser = new JinjaParser(JinjaLexer.tokenize(source));
        List<Stmt> body = parser.subparse(Set.of());
        if (parser.current().kind() != Kind.EOF) {
            Token t = parser.current();
            throw TemplateError.syntax("Encountered unknown tag '" + t.text() + "'.", t.line());
        }
        checkNames(body, false);
        return body;
    }

    // ---- compile-time checks

    /**
     * Jinja2's compiler rejects an unknown filter or test, except inside an if statement or an if expression
     * (a "soft frame"), where it fails only when reached; a loop, macro or block body inside one is hard again.
     */
    private static void checkNames(List<Stmt> body, boolean soft) {
        for (Stmt s : body) {
            checkNames(s, soft);
        }
    }

    private static void checkNames(Stmt s, boolean soft) {
        switch (s) {
            case Print p -> checkNames(p.value(), soft);
            case If i -> {
                i.conditions().forEach(c -> checkNames(c, true));
                i.bodies().forEach(b -> checkNames(b, true));
                checkNames(i.otherwise(), true);
            }
            case For f -> {
                checkNames(f.iterable(), soft);
                if (f.filter() != null) {
                    checkNames(f.filter(), false);
                }
                checkNames(f.body(), false);
                checkNames(f.otherwise(), false);
            }
            case JinjaNode.Set set -> checkNames(set.value(), soft);
            case SetBlock sb -> {
                sb.filters().forEach(f -> checkFilter(f, soft));
                checkNames(sb.body(), false);
            }
            case Macro m -> {
                m.params().forEach(p -> checkNames(p.defaultValue(), false));
                checkNames(m.body(), false);
            }
            case CallBlock cb -> {
                checkNames(cb.call(), soft);
                checkNames(cb.body(), false);
            }
            case FilterBlock fb -> {
                fb.filters().forEach(f -> checkFilter(f, soft));
                checkNames(fb.body(), false);
            }
            case With w -> {
                w.values().forEach(v -> checkNames(v, soft));
                checkNames(w.body(), false);
            }
            case Block b -> checkNames(b.body(), false);
            default -> { }
        }
    }

    private static void checkFilter(Filter f, boolean soft) {
        if (!soft && !JinjaFilters.exists(f.name())) {
            throw new TemplateError("TemplateAssertionError", "No filter named '" + f.name() + "'.").at(f.line());
        }
        f.args().forEach(a -> checkNames(a, soft));
        f.kwargs().forEach(a -> checkNames(a.value(), soft));
    }

    private static void checkNames(Expr e, boolean soft) {
        switch (e) {
            case null -> { }
            case ListLit l -> l.items().forEach(x -> checkNames(x, soft));
            case TupleLit t -> t.items().forEach(x -> checkNames(x, soft));
            case DictLit d -> {
                d.keys().forEach(x -> checkNames(x, soft));
                d.values().forEach(x -> checkNames(x, soft));
            }
            case GetAttr g -> checkNames(g.target(), soft);
            case GetItem g -> {
                checkNames(g.target(), soft);
                checkNames(g.key(), soft);
            }
            case SliceExpr sl -> {
                checkNames(sl.start(), soft);
                checkNames(sl.stop(), soft);
                checkNames(sl.step(), soft);
            }
            case Call c -> {
                checkNames(c.callee(), soft);
                c.args().forEach(x -> checkNames(x, soft));
                c.kwargs().forEach(x -> checkNames(x.value(), soft));
                checkNames(c.starArgs(), soft);
                checkNames(c.starKwargs(), soft);
            }
            case FilterExpr f -> {
                checkNames(f.value(), soft);
                checkFilter(f.filter(), soft);
            }
            case TestExpr t -> {
                if (!soft && !JinjaFilters.testExists(t.name())) {
                    throw new TemplateError("TemplateAssertionError", "No test named '" + t.name() + "'.").at(t.line());
                }
                checkNames(t.value(), soft);
                t.args().forEach(x -> checkNames(x, soft));
            }
            case Unary u -> checkNames(u.operand(), soft);
            case Binary b -> {
                checkNames(b.left(), soft);
                checkNames(b.right(), soft);
            }
            case Compare c -> {
                checkNames(c.first(), soft);
                c.rest().forEach(x -> checkNames(x, soft));
            }
            case And a -> {
                checkNames(a.left(), soft);
                checkNames(a.right(), soft);
            }
            case Or o -> {
                checkNames(o.left(), soft);
                checkNames(o.right(), soft);
            }
            case Not n -> checkNames(n.operand(), soft);
            case CondExpr c -> {
                checkNames(c.condition(), true);
                checkNames(c.then(), true);
                checkNames(c.otherwise(), true);
            }
            case Concat c -> c.parts().forEach(x -> checkNames(x, soft));
            default -> { }
        }
    }

    // ---- token stream

    private Token current() {
        return tokens.get(pos);
    }

    private Token look() {
        return tokens.get(Math.min(pos + 1, tokens.size() - 1));
    }

    private Token next() {
        Token t = tokens.get(pos);
        if (t.kind() != Kind.EOF) {
            pos++;
        }
        return t;
    }

    private boolean skipOp(String op) {
        if (current().isOp(op)) {
            pos++;
            return true;
        }
        return false;
    }

    private boolean skipName(String name) {
        if (current().isName(name)) {
            pos++;
            return true;
        }
        return false;
    }

    private Token expectOp(String op) {
        if (!current().isOp(op)) {
            throw fail("expected token '" + op + "', got " + describe(current()));
        }
        return next();
    }

    private Token expectName() {
        if (current().kind() != Kind.NAME) {
            throw fail("expected token 'name', got " + describe(current()));
        }
        return next();
    }

    private void expectBlockEnd() {
        if (current().kind() != Kind.BLOCK_END) {
            throw fail("expected token 'end of statement block', got " + describe(current()));
        }
        next();
    }

    private TemplateError fail(String message) {
        Token t = current();
        return TemplateError.syntax(t.kind() == Kind.EOF ? "Unexpected end of template. " + message : message, t.line());
    }

    private static String describe(Token t) {
        return switch (t.kind()) {
            case EOF -> "'end of template'";
            case BLOCK_END -> "'end of statement block'";
            case VAR_END -> "'end of print statement'";
            case DATA -> "'template data'";
            default -> "'" + t.text() + "'";
        };
    }

    // ---- statements

    /** Statements up to (not including) a block tag whose name is in {@code ends}; positioned on that name. */
    private List<Stmt> subparse(Set<String> ends) {
        List<Stmt> body = new ArrayList<>();
        while (true) {
            Token t = current();
            switch (t.kind()) {
                case DATA -> {
                    next();
                    body.add(new Text(t.text(), t.line()));
                }
                case VAR_BEGIN -> {
                    next();
                    Expr value = parseTuple(false, true, Set.of(), false);
                    if (current().kind() != Kind.VAR_END) {
                        throw fail("expected token 'end of print statement', got " + describe(current()));
                    }
                    next();
                    body.add(new Print(value, t.line()));
                }
                case BLOCK_BEGIN -> {
                    next();
                    Token name = current();
                    if (name.kind() == Kind.NAME && ends.contains(name.text())) {
                        return body;
                    }
                    body.add(statement());
                }
                case EOF -> {
                    if (!ends.isEmpty()) {
                        throw TemplateError.syntax("Unexpected end of template. Jinja was looking for the following "
                                + "tags: " + String.join(" or ", ends.stream().sorted().map(e -> "'" + e + "'").toList())
                                + ".", t.line());
                    }
                    return body;
                }
                default -> throw fail("unexpected " + describe(t));
            }
        }
    }

    /** Body up to one of {@code ends}; consumes the end tag's name, and with {@code drop} its whole tag. */
    private List<Stmt> statements(Set<String> ends, boolean drop) {
        if (current().kind() != Kind.BLOCK_END) {
            throw fail("expected token 'end of statement block', got " + describe(current()));
        }
        next();
        List<Stmt> body = subparse(ends);
        if (drop) {
            next();
            expectBlockEnd();
        }
        return body;
    }

    private Stmt statement() {
        Token t = current();
        if (t.kind() != Kind.NAME) {
            throw fail("tag name expected");
        }
        int line = t.line();
        switch (t.text()) {
            case "for" -> {
                return parseFor();
            }
            case "if" -> {
                return parseIf();
            }
            case "set" -> {
                return parseSet();
            }
            case "macro" -> {
                return parseMacro();
            }
            case "call" -> {
                return parseCallBlock();
            }
            case "filter" -> {
                next();
                List<Filter> filters = parseFilterChain(true);
                return new FilterBlock(filters, statements(Set.of("endfilter"), true), line);
            }
            case "with" -> {
                return parseWith();
            }
            case "print" -> { // {% print a, b %} prints each expression
                next();
                List<Stmt> prints = new ArrayList<>();
                while (current().kind() != Kind.BLOCK_END) {
                    if (!prints.isEmpty()) {
                        expectOp(",");
                    }
                    prints.add(new Print(parseExpression(true), current().line()));
                }
                expectBlockEnd();
                return new Block(prints, false, line);
            }
            case "break", "continue" -> {
                next();
                if (loopDepth == 0) {
                    throw TemplateError.syntax("'" + t.text() + "' outside loop", line);
                }
                expectBlockEnd();
                return t.text().equals("break") ? new Break(line) : new Continue(line);
            }
            case "block" -> {
                next();
                expectName();
                boolean scoped = skipName("scoped");
                skipName("required");
                List<Stmt> body = statements(Set.of("endblock"), false);
                next();
                if (current().kind() == Kind.NAME) {
                    next();
                }
                expectBlockEnd();
                return new Block(body, scoped, line);
            }
            case "generation" -> {
                next();
                return new Block(statements(Set.of("endgeneration"), true), false, line);
            }
            case "autoescape" -> {
                next();
                parseExpression(true);
                return new Block(statements(Set.of("endautoescape"), true), true, line);
            }
            case "include", "extends", "import", "from" -> {
                next();
                while (current().kind() != Kind.BLOCK_END && current().kind() != Kind.EOF) {
                    next();
                }
                expectBlockEnd();
                return new Unsupported(t.text(), line);
            }
            default -> throw TemplateError.syntax("Encountered unknown tag '" + t.text() + "'.", line);
        }
    }

    private Stmt parseFor() {
        int line = next().line();
        Expr target = parseAssignTarget(true, false, Set.of("in"), false);
        if (!skipName("in")) {
            throw fail("expected token 'in', got " + describe(current()));
        }
        Expr iterable = parseTuple(false, false, Set.of("recursive"), false);
        Expr filter = null;
        if (skipName("if")) {
            filter = parseExpression(true);
        }
        boolean recursive = skipName("recursive");
        loopDepth++;
        List<Stmt> body = statements(Set.of("endfor", "else"), false);
        loopDepth--;
        List<Stmt> otherwise = List.of();
        if (next().text().equals("else")) {
            otherwise = statements(Set.of("endfor"), true);
        } else {
            expectBlockEnd();
        }
        return new For(target, iterable, filter, body, otherwise, recursive, line);
    }

    private Stmt parseIf() {
        int line = next().line();
        List<Expr> conditions = new ArrayList<>();
        List<List<Stmt>> bodies = new ArrayList<>();
        conditions.add(parseTuple(false, false, Set.of(), false));
        while (true) {
            bodies.add(statements(Set.of("elif", "else", "endif"), false));
            Token t = next();
            if (t.text().equals("elif")) {
                conditions.add(parseTuple(false, false, Set.of(), false));
            } else if (t.text().equals("else")) {
                return new If(conditions, bodies, statements(Set.of("endif"), true), line);
            } else {
                expectBlockEnd();
                return new If(conditions, bodies, List.of(), line);
            }
        }
    }

    private Stmt parseSet() {
        int line = next().line();
        Expr target = parseAssignTarget(true, false, Set.of(), true);
        if (skipOp("=")) {
            Expr value = parseTuple(false, true, Set.of(), false);
            expectBlockEnd();
            return new JinjaNode.Set(target, value, line);
        }
        List<Filter> filters = current().isOp("|") ? parseFilterChain(false) : List.of();
        return new SetBlock(target, filters, statements(Set.of("endset"), true), line);
    }

    private Stmt parseMacro() {
        int line = next().line();
        String name = expectName().text();
        List<Param> params = parseSignature();
        int outer = loopDepth;
        loopDepth = 0;
        List<Stmt> body = statements(Set.of("endmacro"), true);
        loopDepth = outer;
        return new Macro(name, params, body, mentions(body, "varargs"), mentions(body, "kwargs"), line);
    }

    /** Whether the name occurs anywhere in the tree (walked through the records' components). */
    private static boolean mentions(Object node, String name) {
        switch (node) {
            case Name n -> {
                return n.name().equals(name);
            }
            case List<?> items -> {
                for (Object item : items) {
                    if (mentions(item, name)) {
                        return true;
                    }
                }
                return false;
            }
            case Record r -> {
                for (var component : r.getClass().getRecordComponents()) {
                    try {
                        if (mentions(component.getAccessor().invoke(r), name)) {
                            return true;
                        }
                    } catch (ReflectiveOperationException e) {
                        throw new IllegalStateException(e);
                    }
                }
                return false;
            }
            case null, default -> {
                return false;
            }
        }
    }

    private List<Param> parseSignature() {
        List<Param> params = new ArrayList<>();
        expectOp("(");
        while (!current().isOp(")")) {
            if (!params.isEmpty()) {
                expectOp(",");
            }
            Token name = expectName();
            Expr defaultValue = skipOp("=") ? parseExpression(true) : null;
            params.add(new Param(name.text(), defaultValue));
        }
        expectOp(")");
        return params;
    }

    private Stmt parseCallBlock() {
        int line = next().line();
        List<Param> params = current().isOp("(") ? parseSignature() : List.of();
        Expr call = parseExpression(true);
        if (!(call instanceof Call c)) {
            throw TemplateError.syntax("expected call", line);
        }
        int outer = loopDepth;
        loopDepth = 0;
        List<Stmt> body = statements(Set.of("endcall"), true);
        loopDepth = outer;
        return new CallBlock(c, params, body, line);
    }

    private Stmt parseWith() {
        int line = next().line();
        List<Expr> targets = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (current().kind() != Kind.BLOCK_END) {
            if (!targets.isEmpty()) {
                expectOp(",");
            }
            targets.add(parseAssignTarget(true, false, Set.of(), false));
            expectOp("=");
            values.add(parseExpression(true));
        }
        return new With(targets, values, statements(Set.of("endwith"), true), line);
    }

    private Expr parseAssignTarget(boolean withTuple, boolean nameOnly, Set<String> extraEnds, boolean withNamespace) {
        Expr target;
        if (withNamespace && look().isOp(".")) {
            Token ns = expectName();
            next();
            Token attr = expectName();
            return new GetAttr(new Name(ns.text(), ns.line()), attr.text(), ns.line());
        }
        if (nameOnly) {
            Token name = expectName();
            target = new Name(name.text(), name.line());
        } else if (withTuple) {
            target = parseTuple(true, true, extraEnds, false);
        } else {
            target = parsePrimary();
        }
        checkAssignable(target);
        return target;
    }

    private void checkAssignable(Expr target) {
        switch (target) {
            case Name n -> {
                if (Set.of("true", "false", "none", "True", "False", "None").contains(n.name())) {
                    throw TemplateError.syntax("can't assign to 'name'", n.line());
                }
            }
            case TupleLit t -> t.items().forEach(this::checkAssignable);
            default -> throw TemplateError.syntax("can't assign to '" + nodeName(target) + "'", target.line());
        }
    }

    private static String nodeName(Expr e) {
        return switch (e) {
            case Const c -> "const";
            case ListLit l -> "list";
            case DictLit d -> "dict";
            case GetAttr g -> "getattr";
            case GetItem g -> "getitem";
            case Call c -> "call";
            default -> e.getClass().getSimpleName().toLowerCase();
        };
    }

    // ---- expressions

    private boolean isTupleEnd(Set<String> extraEnds) {
        Token t = current();
        return t.kind() == Kind.VAR_END || t.kind() == Kind.BLOCK_END || t.isOp(")") || t.kind() == Kind.EOF
                || t.kind() == Kind.NAME && extraEnds.contains(t.text());
    }

    private Expr parseTuple(boolean simplified, boolean withCondExpr, Set<String> extraEnds, boolean explicitParens) {
        int line = current().line();
        List<Expr> items = new ArrayList<>();
        boolean isTuple = false;
        while (true) {
            if (!items.isEmpty()) {
                expectOp(",");
            }
            if (isTupleEnd(extraEnds)) {
                break;
            }
            items.add(simplified ? parsePrimary() : parseExpression(withCondExpr));
            if (current().isOp(",")) {
                isTuple = true;
            } else {
                break;
            }
        }
        if (!isTuple) {
            if (!items.isEmpty()) {
                return items.getFirst();
            }
            if (!explicitParens) {
                throw fail("Expected an expression, got " + describe(current()));
            }
        }
        return new TupleLit(items, line);
    }

    private Expr parseExpression(boolean withCondExpr) {
        return withCondExpr ? parseCondExpr() : parseOr();
    }

    private Expr parseCondExpr() {
        Expr expr = parseOr();
        while (current().isName("if")) {
            int line = next().line();
            Expr condition = parseOr();
            Expr otherwise = skipName("else") ? parseCondExpr() : null;
            expr = new CondExpr(condition, expr, otherwise, line);
        }
        return expr;
    }

    private Expr parseOr() {
        Expr left = parseAnd();
        while (current().isName("or")) {
            int line = next().line();
            left = new Or(left, parseAnd(), line);
        }
        return left;
    }

    private Expr parseAnd() {
        Expr left = parseNot();
        while (current().isName("and")) {
            int line = next().line();
            left = new And(left, parseNot(), line);
        }
        return left;
    }

    private Expr parseNot() {
        if (current().isName("not")) {
            int line = next().line();
            return new Not(parseNot(), line);
        }
        return parseCompare();
    }

    private Expr parseCompare() {
        int line = current().line();
        Expr first = parseMath1();
        List<String> ops = new ArrayList<>();
        List<Expr> rest = new ArrayList<>();
        while (true) {
            Token t = current();
            if (t.kind() == Kind.OP && COMPARE.contains(t.text())) {
                next();
                ops.add(t.text());
            } else if (t.isName("in")) {
                next();
                ops.add("in");
            } else if (t.isName("not") && look().isName("in")) {
                next();
                next();
                ops.add("not in");
            } else {
                break;
            }
            rest.add(parseMath1());
        }
        return ops.isEmpty() ? first : new Compare(first, ops, rest, line);
    }

    private Expr parseMath1() {
        Expr left = parseConcat();
        while (current().isOp("+") || current().isOp("-")) {
            Token op = next();
            left = new Binary(op.text(), left, parseConcat(), op.line());
        }
        return left;
    }

    private Expr parseConcat() {
        int line = current().line();
        List<Expr> parts = new ArrayList<>();
        parts.add(parseMath2());
        while (skipOp("~")) {
            parts.add(parseMath2());
        }
        return parts.size() == 1 ? parts.getFirst() : new Concat(parts, line);
    }

    private Expr parseMath2() {
        Expr left = parsePow();
        while (current().isOp("*") || current().isOp("/") || current().isOp("//") || current().isOp("%")) {
            Token op = next();
            left = new Binary(op.text(), left, parsePow(), op.line());
        }
        return left;
    }

    private Expr parsePow() {
        Expr left = parseUnary(true);
        while (current().isOp("**")) {
            Token op = next();
            left = new Binary("**", left, parseUnary(true), op.line());
        }
        return left;
    }

    private Expr parseUnary(boolean withFilter) {
        Token t = current();
        Expr node;
        if (t.isOp("-") || t.isOp("+")) {
            next();
            node = new Unary(t.text(), parseUnary(false), t.line());
        } else {
            node = parsePrimary();
        }
        node = parsePostfix(node);
        return withFilter ? parseFilterExpr(node) : node;
    }

    private Expr parsePrimary() {
        Token t = current();
        switch (t.kind()) {
            case NAME -> {
                next();
                return switch (t.text()) {
                    case "true", "True" -> new Const(Boolean.TRUE, t.line());
                    case "false", "False" -> new Const(Boolean.FALSE, t.line());
                    case "none", "None" -> new Const(null, t.line());
                    default -> new Name(t.text(), t.line());
                };
            }
            case STRING -> {
                StringBuilder s = new StringBuilder();
                while (current().kind() == Kind.STRING) {
                    s.append((String) next().value());
                }
                return new Const(s.toString(), t.line());
            }
            case INT, FLOAT -> {
                next();
                return new Const(t.value(), t.line());
            }
            default -> {
                if (t.isOp("(")) {
                    next();
                    Expr inner = parseTuple(false, true, Set.of(), true);
                    expectOp(")");
                    return inner;
                }
                if (t.isOp("[")) {
                    return parseList();
                }
                if (t.isOp("{")) {
                    return parseDict();
                }
                throw fail("unexpected " + describe(t));
            }
        }
    }

    private Expr parseList() {
        int line = expectOp("[").line();
        List<Expr> items = new ArrayList<>();
        while (!current().isOp("]")) {
            if (!items.isEmpty()) {
                expectOp(",");
            }
            if (current().isOp("]")) {
                break;
            }
            items.add(parseExpression(true));
        }
        expectOp("]");
        return new ListLit(items, line);
    }

    private Expr parseDict() {
        int line = expectOp("{").line();
        List<Expr> keys = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!current().isOp("}")) {
            if (!keys.isEmpty()) {
                expectOp(",");
            }
            if (current().isOp("}")) {
                break;
            }
            keys.add(parseExpression(true));
            expectOp(":");
            values.add(parseExpression(true));
        }
        expectOp("}");
        return new DictLit(keys, values, line);
    }

    private Expr parsePostfix(Expr node) {
        while (true) {
            if (current().isOp(".") || current().isOp("[")) {
                node = parseSubscript(node);
            } else if (current().isOp("(")) {
                node = parseCall(node);
            } else {
                return node;
            }
        }
    }

    private Expr parseFilterExpr(Expr node) {
        while (true) {
            if (current().isOp("|")) {
                for (Filter f : parseFilterChain(false)) {
                    node = new FilterExpr(node, f, f.line());
                }
            } else if (current().isName("is")) {
                node = parseTest(node);
            } else if (current().isOp("(")) {
                node = parseCall(node);
            } else {
                return node;
            }
        }
    }

    private Expr parseSubscript(Expr node) {
        Token t = next();
        if (t.isOp(".")) {
            Token attr = next();
            if (attr.kind() == Kind.NAME) {
                return new GetAttr(node, attr.text(), attr.line());
            }
            if (attr.kind() == Kind.INT) {
                return new GetItem(node, new Const(attr.value(), attr.line()), attr.line());
            }
            throw TemplateError.syntax("expected name or number", attr.line());
        }
        List<Expr> args = new ArrayList<>();
        while (!current().isOp("]")) {
            if (!args.isEmpty()) {
                expectOp(",");
            }
            args.add(parseSubscribed());
        }
        expectOp("]");
        return new GetItem(node, args.size() == 1 ? args.getFirst() : new TupleLit(args, t.line()), t.line());
    }

    private Expr parseSubscribed() {
        int line = current().line();
        Expr start = null;
        if (!current().isOp(":")) {
            Expr node = parseExpression(true);
            if (!current().isOp(":")) {
                return node;
            }
            start = node;
        }
        next();
        Expr stop = null;
        Expr step = null;
        if (!current().isOp(":") && !current().isOp("]") && !current().isOp(",")) {
            stop = parseExpression(true);
        }
        if (skipOp(":") && !current().isOp("]") && !current().isOp(",")) {
            step = parseExpression(true);
        }
        return new SliceExpr(start, stop, step, line);
    }

    private record CallArgs(List<Expr> args, List<Arg> kwargs, Expr starArgs, Expr starKwargs) { }

    private CallArgs parseCallArgs() {
        expectOp("(");
        List<Expr> args = new ArrayList<>();
        List<Arg> kwargs = new ArrayList<>();
        Expr starArgs = null;
        Expr starKwargs = null;
        boolean requireComma = false;
        while (!current().isOp(")")) {
            if (requireComma) {
                expectOp(",");
                if (current().isOp(")")) {
                    break;
                }
            }
            if (current().isOp("*")) {
                ensure(starArgs == null && starKwargs == null);
                next();
                starArgs = parseExpression(true);
            } else if (current().isOp("**")) {
                ensure(starKwargs == null);
                next();
                starKwargs = parseExpression(true);
            } else if (current().kind() == Kind.NAME && look().isOp("=")) {
                ensure(starKwargs == null);
                String key = next().text();
                next();
                kwargs.add(new Arg(key, parseExpression(true)));
            } else {
                ensure(starArgs == null && starKwargs == null && kwargs.isEmpty());
                args.add(parseExpression(true));
            }
            requireComma = true;
        }
        expectOp(")");
        return new CallArgs(args, kwargs, starArgs, starKwargs);
    }

    private void ensure(boolean ok) {
        if (!ok) {
            throw fail("invalid syntax for function call expression");
        }
    }

    private Expr parseCall(Expr callee) {
        int line = current().line();
        CallArgs a = parseCallArgs();
        return new Call(callee, a.args(), a.kwargs(), a.starArgs(), a.starKwargs(), line);
    }

    private List<Filter> parseFilterChain(boolean startInline) {
        List<Filter> filters = new ArrayList<>();
        while (current().isOp("|") || startInline) {
            if (!startInline) {
                next();
            }
            startInline = false;
            Token name = expectName();
            StringBuilder full = new StringBuilder(name.text());
            while (skipOp(".")) {
                full.append('.').append(expectName().text());
            }
            CallArgs a = current().isOp("(") ? parseCallArgs() : new CallArgs(List.of(), List.of(), null, null);
            filters.add(new Filter(full.toString(), a.args(), a.kwargs(), a.starArgs(), a.starKwargs(), name.line()));
        }
        return filters;
    }

    private Expr parseTest(Expr node) {
        int line = next().line();
        boolean negated = skipName("not");
        StringBuilder name = new StringBuilder(expectName().text());
        while (skipOp(".")) {
            name.append('.').append(expectName().text());
        }
        List<Expr> args = List.of();
        List<Arg> kwargs = List.of();
        Token t = current();
        if (t.isOp("(")) {
            CallArgs a = parseCallArgs();
            args = a.args();
            kwargs = a.kwargs();
        } else if ((t.kind() == Kind.NAME || t.kind() == Kind.STRING || t.kind() == Kind.INT || t.kind() == Kind.FLOAT
                || t.isOp("[") || t.isOp("{")) && !t.isName("else") && !t.isName("or") && !t.isName("and")) {
            if (t.isName("is")) {
                throw fail("You cannot chain multiple tests with is");
            }
            args = List.of(parsePostfix(parsePrimary()));
        }
        return new TestExpr(node, name.toString(), args, kwargs, negated, line);
    }
}
