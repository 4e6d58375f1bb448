package dev.qwen2j.core.chat;

/**
 * Jinja2's {@code Undefined}: a missing variable, attribute or item. It prints as nothing, is false, iterates as
 * empty, and fails with its hint as soon as anything else is asked of it (an attribute, an operator, a call).
 */
final class Undefined {

    final String hint;
    /** The Python exception class this undefined raises: UndefinedError, or SecurityError for unsafe attributes. */
    final String errorType;

    Undefined(String hint) {
        this(hint, "UndefinedError");
    }

    Undefined(String hint, String errorType) {
        this.hint = hint;
        this.errorType = errorType;
    }

    static Undefined variable(String name) {
        return new Undefined("'" + name + "' is undefined");
    }

    static Undefined attribute(Object owner, Object name) {
        return new Undefined(Py.describe(owner) + " has no attribute " + Py.repr(name));
    }

    TemplateError fail() {
        return new TemplateError(errorType, hint);
    }

    @Override
    public String toString() {
        return "";
    }
}
