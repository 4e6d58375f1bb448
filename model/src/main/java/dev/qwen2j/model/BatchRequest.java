package dev.qwen2j.model;

import java.util.List;
import java.util.Objects;

/**
 * One generation of a batch ({@link Model#generateAll(List, int)}): a prompt, formatted as
 * {@link Model#generate(String, GenerationOptions, GenerationListener)} formats it, or a conversation, rendered as
 * {@link Model#chat(List, GenerationOptions, GenerationListener)} renders it; with its own options, so its own seed.
 *
 * @param prompt   the prompt, or null for a conversation
 * @param messages the conversation, or null for a prompt
 * @param options  this generation's options (one sample)
 */
public record BatchRequest(String prompt, List<Message> messages, GenerationOptions options) {

    public BatchRequest {
        Objects.requireNonNull(options, "options");
        if ((prompt == null) == (messages == null)) {
            throw new IllegalArgumentException("a batch request has a prompt or messages, exactly one of them");
        }
        messages = messages == null ? null : List.copyOf(messages);
    }

    /** A prompt with its options. */
    public static BatchRequest of(String prompt, GenerationOptions options) {
        return new BatchRequest(Objects.requireNonNull(prompt, "prompt"), null, options);
    }

    /** A conversation with its options. */
    public static BatchRequest chat(List<Message> messages, GenerationOptions options) {
        return new BatchRequest(null, Objects.requireNonNull(messages, "messages"), options);
    }
}
