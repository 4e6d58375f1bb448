package dev.qwen2j.core.chat;

/**
 * A chat template could not be rendered: it called {@code raise_exception(...)} (the message is then the
 * template's own), does not parse, fails as Jinja2 would fail (the message names the template, the line and
 * Jinja2's error class, e.g. {@code TypeError}), or passed one of the sandbox's {@link TemplateLimits}.
 */
public final class ChatTemplateException extends RuntimeException {

    private final int line;

    public ChatTemplateException(String message) {
        this(message, 0, null);
    }

    public ChatTemplateException(String message, Throwable cause) {
        this(message, 0, cause);
    }

    public ChatTemplateException(String message, int line, Throwable cause) {
        super(message, cause);
        this.line = line;
    }

    /** The template line the error comes from, 1-based; 0 when unknown or for raise_exception. */
    public int line() {
        return line;
    }
}
