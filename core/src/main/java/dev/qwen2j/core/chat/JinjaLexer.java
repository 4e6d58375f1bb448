package dev.qwen2j.core.chat;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a template into tokens as Jinja2's lexer does with transformers' settings: {@code trim_blocks} (the
 * newline after a block or comment tag goes), {@code lstrip_blocks} (spaces before a block or comment tag that
 * starts a line go), {@code -}/{@code +} whitespace control, raw blocks, newlines normalized to {@code \n} and
 * one trailing newline dropped ({@code keep_trailing_newline=False}).
 */
final class JinjaLexer {

    enum Kind { DATA, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INT, FLOAT, OP, EOF }

    record Token(Kind kind, String text, Object value, int line) {
        boolean is(Kind k, String t) {
            return kind == k && text.equals(t);
        }

        boolean isName(String name) {
            return kind == Kind.NAME && text.equals(name);
        }

        boolean isOp(String op) {
            return kind == Kind.OP && text.equals(op);
        }
    }

    private static final String[] OPERATORS = {
            "//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}",
            "<", ">", "=", ".", ":", "|", ",", ";"};

    private final String src;
    private final List<Token> tokens = new ArrayList<>();
    private int pos;
    private int line = 1;
    private boolean lineStarting = true;

    private JinjaLexer(String source) {
        String s = source.replace("\r\n", "\n").replace('\r', '\n');
        if (s.endsWith("\n")) {
            s = s.substring(0, s.length() - 1);
        }
        this.src = s;
    }

    static List<Token> tokenize(String source) {
        JinjaLexer lexer = new JinjaLexer(source);
        lexer.run();
        return lexer.tokens;
    }

    private void run() {
        while (pos < src.length()) {
            int tag = nextTag(pos);
            if (tag < 0) {
                data(src.substring(pos));
                pos = src.length();
                break;
            }
            String text = src.substring(pos, tag);
            char kind = src.charAt(tag + 1);
            int after = tag + 2;
            char sign = after < src.length() && (src.charAt(after) == '-' || src.charAt(after) == '+')
                    ? src.charAt(after) : 0;
            if (sign == '-') {
                text = rstrip(text);
            } else if (sign != '+' && kind != '{') {
                int lineStart = text.lastIndexOf('\n') + 1;
                if ((lineStart > 0 || lineStarting) && lineStart < text.length() && isBlank(text, lineStart)) {
                    text = text.substring(0, lineStart);
                }
            }
            data(text);
            line += countNewlines(src, pos, tag);
            pos = sign != 0 ? after + 1 : after;
            lineStarting = false;
            if (kind == '#') {
                comment(tag);
            } else if (kind == '%' && raw()) {
                continue;
            } else {
                tokens.add(new Token(kind == '{' ? Kind.VAR_BEGIN : Kind.BLOCK_BEGIN, kind == '{' ? "{{" : "{%", null, line));
                expression(kind == '{');
            }
        }
        tokens.add(new Token(Kind.EOF, "", null, line));
    }

    /** The next "{{", "{%" or "{#" at or after {@code from}, or -1. */
    private int nextTag(int from) {
        for (int i = src.indexOf('{', from); i >= 0 && i + 1 < src.length(); i = src.indexOf('{', i + 1)) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
        }
        return -1;
    }

    private void data(String text) {
        if (!text.isEmpty()) {
            tokens.add(new Token(Kind.DATA, text, null, line));
        }
    }

    private void comment(int start) {
        int end = src.indexOf("#}", pos);
        if (end < 0) {
            throw TemplateError.syntax("Missing end of comment tag", line);
        }
        char before = end > pos ? src.charAt(end - 1) : 0;
        line += countNewlines(src, start, end);
        pos = end + 2;
        if (before == '-') {
            skipWhitespace();
        } else if (before != '+' && pos < src.length() && src.charAt(pos) == '\n') {
            pos++;
            line++;
        }
        lineStarting = src.charAt(pos - 1) == '\n';
    }

    /** {% raw %}...{% endraw %}: the body is data, untouched but for the tags' whitespace control. */
    private boolean raw() {
        int p = skipSpaces(pos);
        if (!src.startsWith("raw", p) || p + 3 < src.length() && isNameChar(src.charAt(p + 3))) {
            return false;
        }
        p = skipSpaces(p + 3);
        if (src.startsWith("-%}", p)) {
            p = skipSpacesAndNewlines(p + 3);
        } else if (src.startsWith("%}", p)) {
            p += 2;
        } else {
            return false;
        }
        int bodyStart = p;
        int search = p;
        while (true) {
            int tag = src.indexOf("{%", search);
            if (tag < 0) {
                throw TemplateError.syntax("Missing end of raw directive", line);
            }
            int q = tag + 2;
            char sign = q < src.length() && (src.charAt(q) == '-' || src.charAt(q) == '+') ? src.charAt(q) : 0;
            q = skipSpaces(sign != 0 ? q + 1 : q);
            if (!src.startsWith("endraw", q)) {
                search = tag + 2;
                continue;
            }
            q = skipSpaces(q + 6);
            int end;
            if (src.startsWith("+%}", q)) {
                end = q + 3;
            } else if (src.startsWith("-%}", q)) {
                end = skipSpacesAndNewlines(q + 3);
            } else if (src.startsWith("%}", q)) {
                end = q + 2;
                if (end < src.length() && src.charAt(end) == '\n') {
                    end++;
                }
            } else {
                search = tag + 2;
                continue;
            }
            String body = src.substring(bodyStart, tag);
            if (sign == '-') {
                body = rstrip(body);
            } else if (sign != '+') {
                int lineStart = body.lastIndexOf('\n') + 1;
                if (lineStart > 0 && lineStart < body.length() && isBlank(body, lineStart)) {
                    body = body.substring(0, lineStart);
                }
            }
            line += countNewlines(src, pos, bodyStart);
            data(body);
            line += countNewlines(src, bodyStart, end);
            pos = end;
            lineStarting = src.charAt(end - 1) == '\n';
            return true;
        }
    }

    private void expression(boolean variable) {
        List<Character> balance = new ArrayList<>();
        while (true) {
            int start = pos;
            while (pos < src.length() && Character.isWhitespace(src.charAt(pos))) {
                if (src.charAt(pos) == '\n') {
                    line++;
                }
                pos++;
            }
            if (pos >= src.length()) {
                throw TemplateError.syntax("unexpected end of template, expected '" + (variable ? "}}" : "%}")
                        + "'", line);
            }
            if (balance.isEmpty() && closes(variable)) {
                return;
            }
            char c = src.charAt(pos);
            if (Character.isLetter(c) || c == '_') {
                int end = pos + 1;
                while (end < src.length() && isNameChar(src.charAt(end))) {
                    end++;
                }
                tokens.add(new Token(Kind.NAME, src.substring(pos, end), null, line));
                pos = end;
            } else if (c == '\'' || c == '"') {
                string(c);
            } else if (Character.isDigit(c)) {
                number();
            } else {
                String op = null;
                for (String o : OPERATORS) {
                    if (src.startsWith(o, pos)) {
                        op = o;
                        break;
                    }
                }
                if (op == null) {
                    throw TemplateError.syntax("unexpected char " + Py.repr(String.valueOf(c)) + " at " + pos, line);
                }
                switch (op) {
                    case "(" -> balance.add(')');
                    case "[" -> balance.add(']');
                    case "{" -> balance.add('}');
                    case ")", "]", "}" -> {
                        if (balance.isEmpty()) {
                            throw TemplateError.syntax("unexpected '" + op + "'", line);
                        }
                        char expected = balance.removeLast();
                        if (expected != op.charAt(0)) {
                            throw TemplateError.syntax("unexpected '" + op + "', expected '" + expected + "'", line);
                        }
                    }
                    default -> { }
                }
                tokens.add(new Token(Kind.OP, op, null, line));
                pos += op.length();
            }
            if (pos == start) {
                throw TemplateError.syntax("unexpected char at " + pos, line);
            }
        }
    }

    /** At the closing tag: consumes it with its whitespace control and emits the end token. */
    private boolean closes(boolean variable) {
        if (variable) {
            if (src.startsWith("-}}", pos)) {
                tokens.add(new Token(Kind.VAR_END, "}}", null, line));
                pos = skipSpacesAndNewlines(pos + 3);
            } else if (src.startsWith("}}", pos)) {
                tokens.add(new Token(Kind.VAR_END, "}}", null, line));
                pos += 2;
            } else {
                return false;
            }
            lineStarting = src.charAt(pos - 1) == '\n';
            return true;
        }
        if (src.startsWith("+%}", pos)) {
            tokens.add(new Token(Kind.BLOCK_END, "%}", null, line));
            pos += 3;
        } else if (src.startsWith("-%}", pos)) {
            tokens.add(new Token(Kind.BLOCK_END, "%}", null, line));
            pos = skipSpacesAndNewlines(pos + 3);
        } else if (src.startsWith("%}", pos)) {
            tokens.add(new Token(Kind.BLOCK_END, "%}", null, line));
            pos += 2;
            if (pos < src.length() && src.charAt(pos) == '\n') {
                pos++;
                line++;
            }
        } else {
            return false;
        }
        lineStarting = src.charAt(pos - 1) == '\n';
        return true;
    }

    private void string(char quote) {
        StringBuilder out = new StringBuilder();
        int p = pos + 1;
        int startLine = line;
        while (true) {
            if (p >= src.length()) {
                throw TemplateError.syntax("unexpected end of string", startLine);
            }
            char c = src.charAt(p);
            if (c == quote) {
                break;
            }
            if (c == '\n') {
                line++;
            }
            if (c != '\\') {
                out.append(c);
                p++;
                continue;
            }
            if (p + 1 >= src.length()) {
                throw TemplateError.syntax("unexpected end of string", startLine);
            }
            char e = src.charAt(p + 1);
            p += 2;
            switch (e) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'r' -> out.append('\r');
                case '\\' -> out.append('\\');
                case '\'' -> out.append('\'');
                case '"' -> out.append('"');
                case 'a' -> out.append('\u0007');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'v' -> out.append('\u000b');
                case '0', '1', '2', '3', '4', '5', '6', '7' -> {
                    int end = p - 1;
                    while (end < src.length() && end < p + 2 && src.charAt(end) >= '0' && src.charAt(end) <= '7') {
                        end++;
                    }
                    out.append((char) Integer.parseInt(src.substring(p - 1, end), 8));
                    p = end;
                }
                case 'x' -> p = hexEscape(out, p, 2, startLine);
                case 'u' -> p = hexEscape(out, p, 4, startLine);
                case 'U' -> p = hexEscape(out, p, 8, startLine);
                case '\n' -> line++;
                default -> out.append('\\').append(e);
            }
        }
        tokens.add(new Token(Kind.STRING, src.substring(pos, p + 1), out.toString(), startLine));
        pos = p + 1;
    }

    private int hexEscape(StringBuilder out, int p, int digits, int startLine) {
        if (p + digits > src.length()) {
            throw TemplateError.syntax("truncated \\x escape in a string", startLine);
        }
        try {
            out.appendCodePoint(Integer.parseInt(src.substring(p, p + digits), 16));
        } catch (IllegalArgumentException e) {
            throw TemplateError.syntax("bad escape in a string", startLine);
        }
        return p + digits;
    }

    private void number() {
        int p = pos;
        if (src.charAt(p) == '0' && p + 1 < src.length() && "xXoObB".indexOf(src.charAt(p + 1)) >= 0) {
            int radix = switch (Character.toLowerCase(src.charAt(p + 1))) {
                case 'x' -> 16;
                case 'o' -> 8;
                default -> 2;
            };
            int end = p + 2;
            while (end < src.length() && (Character.digit(src.charAt(end), radix) >= 0 || src.charAt(end) == '_')) {
                end++;
            }
            String digits = src.substring(p + 2, end).replace("_", "");
            tokens.add(new Token(Kind.INT, src.substring(p, end), Long.parseLong(digits, radix), line));
            pos = end;
            return;
        }
        int end = digits(p);
        boolean isFloat = false;
        boolean afterDot = p > 0 && src.charAt(p - 1) == '.'; // matrix.0.1 is two items, as Jinja2's (?<!\.) has it
        if (afterDot) {
            tokens.add(new Token(Kind.INT, src.substring(p, end), parseInt(src.substring(p, end)), line));
            pos = end;
            return;
        }
        if (end + 1 < src.length() && src.charAt(end) == '.' && Character.isDigit(src.charAt(end + 1))) {
            end = digits(end + 1);
            isFloat = true;
        }
        if (end < src.length() && (src.charAt(end) == 'e' || src.charAt(end) == 'E')) {
            int q = end + 1;
            if (q < src.length() && (src.charAt(q) == '+' || src.charAt(q) == '-')) {
                q++;
            }
            if (q < src.length() && Character.isDigit(src.charAt(q))) {
                end = digits(q);
                isFloat = true;
            }
        }
        String text = src.substring(p, end);
        String clean = text.replace("_", "");
        Object value;
        if (isFloat) {
            value = Double.parseDouble(clean);
        } else {
            value = parseInt(text);
        }
        tokens.add(new Token(isFloat ? Kind.FLOAT : Kind.INT, text, value, line));
        pos = end;
    }

    private long parseInt(String text) {
        try {
            return Long.parseLong(text.replace("_", ""));
        } catch (NumberFormatException e) {
            throw TemplateError.syntax("integer literal " + text + " beyond 64 bits", line);
        }
    }

    private int digits(int p) {
        int end = p;
        while (end < src.length() && (Character.isDigit(src.charAt(end))
                || src.charAt(end) == '_' && end + 1 < src.length() && Character.isDigit(src.charAt(end + 1)))) {
            end++;
        }
        return end;
    }

    private int skipSpaces(int p) {
        while (p < src.length() && Character.isWhitespace(src.charAt(p))) {
            p++;
        }
        return p;
    }

    private int skipSpacesAndNewlines(int p) {
        int end = skipSpaces(p);
        line += countNewlines(src, p, end);
        return end;
    }

    private void skipWhitespace() {
        pos = skipSpacesAndNewlines(pos);
    }

    private static boolean isNameChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }

    /** Python's str.isspace over text[from:], for a non-empty remainder. */
    private static boolean isBlank(String text, int from) {
        for (int i = from; i < text.length(); i++) {
            if (!isPythonSpace(text.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    static boolean isPythonSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\u000b' || c == '\f'
                || c == '\u001c' || c == '\u001d' || c == '\u001e' || c == '\u001f' || c == '\u0085'
                || Character.isSpaceChar(c);
    }

    /** Python's str.rstrip(): strips every kind of whitespace. */
    static String rstrip(String s) {
        int end = s.length();
        while (end > 0 && isPythonSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end);
    }

    private static int countNewlines(String s, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) {
            if (s.charAt(i) == '\n') {
                n++;
            }
        }
        return n;
    }
}
