package dev.qwen2j.core.chat;

/**
 * A failure while parsing or rendering, named as Jinja2 would name it (TemplateSyntaxError, TypeError,
 * UndefinedError, ...); the interpreter adds the template line and turns it into a {@link ChatTemplateException}.
 */
final class TemplateError extends RuntimeException {

    final String pythonType;
    int line;

    TemplateError(String pythonType, String message) {
        super(message, null, false, false);
        this.pythonType = pythonType;
    }

    static TemplateError type(String message) {
        return new TemplateError("TypeError", message);
    }

    static TemplateError syntax(String message, int line) {
        TemplateError e = new TemplateError("TemplateSyntaxError", message);
        e.line = line;
        return e;
    }

    TemplateError at(int line) {
        if (this.line == 0) {
            this.line = line;
        }
        return this;
    }
}
