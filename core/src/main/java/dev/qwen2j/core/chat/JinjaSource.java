package dev.qwen2j.core.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Brings Jinja2 template text into the shape jinjava parses the same way, before jinjava sees it.
 * <ul>
 *   <li>Newlines become {@code \n} and one trailing newline is dropped, as Jinja2's lexer does
 *       ({@code keep_trailing_newline=False}).</li>
 *   <li>Python's stepped slice {@code x[a:b:c]} (e.g. {@code messages[::-1]}), which jinjava's parser rejects,
 *       becomes {@code (x|py_slice(a, b, c))}.</li>
 *   <li>A keyword argument whose value holds a filter, {@code namespace(n=messages|length - 1)}, gets its
 *       value parenthesised: jinjava would otherwise apply the filter to the named parameter itself.</li>
 * </ul>
 * Only expression text inside {@code {{ }}} and {@code {% %}} is touched; string literals and
 * {@code {% raw %}} blocks are kept whole.
 */
final class JinjaSource {

    private static final Set<String> KEYWORDS = Set.of(
            "in", "not", "and", "or", "is", "if", "else", "elif", "for", "set", "recursive");

    private static final java.util.regex.Pattern RAW = java.util.regex.Pattern.compile("[-+]?\\s*raw\\s*-?");
    private static final java.util.regex.Pattern END_RAW = java.util.regex.Pattern.compile("\\{%[-+]?\\s*endraw\\s*-?%}");

    private JinjaSource() {
    }

    static String prepare(String template) {
        String text = template.replace("\r\n", "\n").replace('\r', '\n');
        if (text.endsWith("\n")) {
            text = text.substring(0, text.length() - 1);
        }
        StringBuilder out = new StringBuilder(text.length() + 64);
        int i = 0;
        while (i < text.length()) {
            int open = nextTagStart(text, i);
            if (open < 0) {
                out.append(text, i, text.length());
                break;
            }
            out.append(text, i, open + 2);
            boolean comment = text.charAt(open + 1) == '#';
            String close = text.charAt(open + 1) == '{' ? "}}" : text.charAt(open + 1) == '%' ? "%}" : "#}";
            int end = comment ? text.indexOf(close, open + 2) : expressionEnd(text, open + 2, close);
            if (end < 0) { // unterminated: leave it to jinjava to report
                out.append(text, open + 2, text.length());
                break;
            }
            String inner = text.substring(open + 2, end);
            out.append(comment ? inner : rewrite(inner));
            out.append(close);
            i = end + 2;
            if (!comment && close.equals("%}") && RAW.matcher(inner).matches()) { // raw text: copy as it is
                java.util.regex.Matcher endRaw = END_RAW.matcher(text);
                int rawEnd = endRaw.find(i) ? endRaw.start() : text.length();
                out.append(text, i, rawEnd);
                i = rawEnd;
            }
        }
        return out.toString();
    }

    private static int nextTagStart(String text, int from) {
        for (int i = text.indexOf('{', from); i >= 0 && i + 1 < text.length(); i = text.indexOf('{', i + 1)) {
            char c = text.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
        }
        return -1;
    }

    /** Index of the closing delimiter, skipping string literals. */
    private static int expressionEnd(String text, int from, String close) {
        for (int i = from; i + 1 < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\'' || c == '"') {
                i = stringEnd(text, i) - 1;
            } else if (c == close.charAt(0) && text.charAt(i + 1) == close.charAt(1)) {
                return i;
            }
        }
        return -1;
    }

    private static int stringEnd(String text, int start) {
        char quote = text.charAt(start);
        int i = start + 1;
        while (i < text.length() && text.charAt(i) != quote) {
            i += text.charAt(i) == '\\' ? 2 : 1;
        }
        return Math.min(i + 1, text.length());
    }

    /** One token with the whitespace before it, so that joining tokens gives back the text. */
    private record Token(String space, String text) {
        boolean is(String s) {
            return text.equals(s);
        }

        boolean isName() {
            if (text.isEmpty()) {
                return false;
            }
            char c = text.charAt(0);
            return (Character.isLetterOrDigit(c) || c == '_') && !KEYWORDS.contains(text);
        }

        boolean isOperand() {
            return isName() || text.startsWith("'") || text.startsWith("\"") || is(")") || is("]");
        }
    }

    private static List<Token> tokenize(String expr) {
        List<Token> tokens = new ArrayList<>();
        int i = 0;
        while (i < expr.length()) {
            int start = i;
            while (i < expr.length() && Character.isWhitespace(expr.charAt(i))) {
                i++;
            }
            String space = expr.substring(start, i);
            if (i == expr.length()) {
                tokens.add(new Token(space, ""));
                break;
            }
            char c = expr.charAt(i);
            int end;
            if (c == '\'' || c == '"') {
                end = stringEnd(expr, i);
            } else if (Character.isLetterOrDigit(c) || c == '_') {
                end = i;
                while (end < expr.length() && (Character.isLetterOrDigit(expr.charAt(end)) || expr.charAt(end) == '_')) {
                    end++;
                }
            } else if (startsWithAny(expr, i, "==", "!=", "<=", ">=", "//", "**")) {
                end = i + 2;
            } else {
                end = i + 1;
            }
            tokens.add(new Token(space, expr.substring(i, end)));
            i = end;
        }
        return tokens;
    }

    private static boolean startsWithAny(String expr, int at, String... operators) {
        for (String op : operators) {
            if (expr.startsWith(op, at)) {
                return true;
            }
        }
        return false;
    }

    private static String rewrite(String expr) {
        if (expr.indexOf('[') < 0 && expr.indexOf('=') < 0 && !expr.contains("not")) {
            return expr;
        }
        List<Token> tokens = rewriteSlices(parenthesiseNotTests(parenthesiseKeywordValues(tokenize(expr))));
        StringBuilder out = new StringBuilder(expr.length() + 16);
        for (Token t : tokens) {
            out.append(t.space).append(t.text);
        }
        return out.toString();
    }

    private static int matching(List<Token> tokens, int open) {
        String o = tokens.get(open).text, c = o.equals("(") ? ")" : o.equals("[") ? "]" : "}";
        int depth = 0;
        for (int i = open; i < tokens.size(); i++) {
            if (tokens.get(i).is(o)) {
                depth++;
            } else if (tokens.get(i).is(c) && --depth == 0) {
                return i;
            }
        }
        return tokens.size() - 1;
    }

    private static boolean isOpen(Token t) {
        return t.is("(") || t.is("[") || t.is("{");
    }

    private static List<Token> parenthesiseKeywordValues(List<Token> tokens) {
        List<Token> out = new ArrayList<>(tokens.size() + 8);
        List<Boolean> inCall = new ArrayList<>(); // stack: is the innermost open bracket a '('?
        for (int i = 0; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            out.add(t);
            if (isOpen(t)) {
                inCall.add(t.is("("));
            } else if ((t.is(")") || t.is("]") || t.is("}")) && !inCall.isEmpty()) {
                inCall.removeLast();
            } else if (t.is("=") && !inCall.isEmpty() && inCall.getLast() && i > 0 && tokens.get(i - 1).isName()) {
                int end = i + 1;
                boolean filtered = false;
                for (int depth = 0; end < tokens.size(); end++) {
                    Token v = tokens.get(end);
                    if (isOpen(v)) {
                        depth++;
                    } else if (v.is(")") || v.is("]") || v.is("}")) {
                        if (depth-- == 0) {
                            break;
                        }
                    } else if (depth == 0 && v.is(",")) {
                        break;
                    } else if (depth == 0 && v.is("|")) {
                        filtered = true;
                    }
                }
                if (filtered) {
                    out.add(new Token(" ", "("));
                    out.addAll(tokens.subList(i + 1, end));
                    out.add(new Token("", ")"));
                    i = end - 1;
                }
            }
        }
        return out;
    }

    /**
     * Jinja2 reads {@code not x is defined} as {@code not (x is defined)}: tests bind tighter than {@code not}.
     * jinjava applies {@code not} first, so the test is made explicit with parentheses.
     */
    private static List<Token> parenthesiseNotTests(List<Token> tokens) {
        List<Token> out = new ArrayList<>(tokens.size() + 4);
        for (int i = 0; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            boolean unaryNot = t.is("not") && !(i > 0 && tokens.get(i - 1).is("is"));
            int operandEnd = unaryNot ? chainEnd(tokens, i + 1) : -1;
            if (operandEnd > i + 1 && operandEnd < tokens.size() && tokens.get(operandEnd).is("is")) {
                int end = operandEnd + 1;
                if (end < tokens.size() && tokens.get(end).is("not")) {
                    end++;
                }
                if (end < tokens.size() && tokens.get(end).isName()) {
                    end++;
                    if (end < tokens.size() && tokens.get(end).is("(")) {
                        end = matching(tokens, end) + 1;
                    }
                    out.add(t);
                    Token first = tokens.get(i + 1);
                    out.add(new Token(first.space, "("));
                    out.add(new Token("", first.text));
                    out.addAll(parenthesiseNotTests(tokens.subList(i + 2, end)));
                    out.add(new Token("", ")"));
                    i = end - 1;
                    continue;
                }
            }
            out.add(t);
        }
        return out;
    }

    /** Index just past the postfix chain ({@code a.b[0](x)}) starting at {@code start}, or start if none. */
    private static int chainEnd(List<Token> tokens, int start) {
        if (start >= tokens.size()) {
            return start;
        }
        Token first = tokens.get(start);
        int i;
        if (first.is("(") || first.is("[")) {
            i = matching(tokens, start) + 1;
        } else if (first.isName() || first.text.startsWith("'") || first.text.startsWith("\"")) {
            i = start + 1;
        } else {
            return start;
        }
        while (i < tokens.size()) {
            Token t = tokens.get(i);
            if (t.is(".") && i + 1 < tokens.size() && tokens.get(i + 1).isName()) {
                i += 2;
            } else if (t.is("[") || t.is("(")) {
                i = matching(tokens, i) + 1;
            } else {
                break;
            }
        }
        return i;
    }

    private static List<Token> rewriteSlices(List<Token> tokens) {
        List<Token> out = new ArrayList<>(tokens.size() + 8);
        for (int i = 0; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            if (t.is("[") && !out.isEmpty() && out.getLast().isOperand()) {
                int close = matching(tokens, i);
                List<List<Token>> parts = splitTopLevel(tokens.subList(i + 1, close));
                if (parts.size() == 3) {
                    int start = chainStart(out);
                    Token first = out.get(start);
                    out.set(start, new Token("", first.text));
                    out.add(start, new Token(first.space, "("));
                    out.add(new Token("", "|"));
                    out.add(new Token("", "py_slice"));
                    out.add(new Token("", "("));
                    for (int p = 0; p < 3; p++) {
                        List<Token> part = rewriteSlices(parts.get(p));
                        boolean empty = part.stream().allMatch(x -> x.text.isEmpty());
                        out.add(new Token(p == 0 ? "" : " ", empty ? "none" : ""));
                        if (!empty) {
                            out.addAll(part);
                        }
                        if (p < 2) {
                            out.add(new Token("", ","));
                        }
                    }
                    out.add(new Token("", ")"));
                    out.add(new Token("", ")"));
                    i = close;
                    continue;
                }
            }
            out.add(t);
        }
        return out;
    }

    /** Splits the tokens between brackets at top-level colons. */
    private static List<List<Token>> splitTopLevel(List<Token> inner) {
        List<List<Token>> parts = new ArrayList<>();
        int depth = 0, from = 0;
        for (int i = 0; i < inner.size(); i++) {
            Token t = inner.get(i);
            if (isOpen(t)) {
                depth++;
            } else if (t.is(")") || t.is("]") || t.is("}")) {
                depth--;
            } else if (depth == 0 && t.is(":")) {
                parts.add(inner.subList(from, i));
                from = i + 1;
            }
        }
        parts.add(inner.subList(from, inner.size()));
        return parts;
    }

    /** Walks back over a postfix chain such as {@code a.b[0](x).c} and returns the index of its first token. */
    private static int chainStart(List<Token> out) {
        int k = out.size() - 1;
        while (k >= 0) {
            Token t = out.get(k);
            if (t.is(")") || t.is("]")) {
                String open = t.is(")") ? "(" : "[";
                int depth = 0;
                for (; k >= 0; k--) {
                    if (out.get(k).is(t.text)) {
                        depth++;
                    } else if (out.get(k).is(open) && --depth == 0) {
                        break;
                    }
                }
                if (k > 0 && out.get(k - 1).isOperand()) { // a call or a subscript: keep walking
                    k--;
                    continue;
                }
                return Math.max(k, 0);
            }
            if (k >= 2 && out.get(k - 1).is(".")) {
                k -= 2;
                continue;
            }
            return k;
        }
        return 0;
    }
}
