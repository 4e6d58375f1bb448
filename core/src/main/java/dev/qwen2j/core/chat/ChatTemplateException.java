package dev.qwen2j.core.chat;

/**
 * A chat template could not be rendered: it called {@code raise_exception(...)}, used a variable in a way
 * Jinja2 would reject, or does not parse. The message is the template's own message where there is one.
 */
public final class ChatTemplateException extends RuntimeException {

    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
