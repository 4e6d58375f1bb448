package dev.qwen2j.model;

/**
 * The model was closed: before a generation could start, or while it ran (it ends at its next step). Nothing is
 * wrong with the request; a server answers it as unavailable.
 */
public final class ModelClosedException extends IllegalStateException {

    public ModelClosedException(String message) {
        super(message);
    }
}
