package dev.qwen2j.server;

/**
 * Where an answer goes: one JSON body, or Server-Sent Events. Once the client is gone every write is dropped and
 * {@link #failed()} turns true, which cancels the generation at its next token.
 */
interface EventStream {

    /** Sends {@code data: payload} as one event (the first event commits a 200 text/event-stream response). */
    void event(String payload);

    /** Sends the whole answer as one JSON body. */
    void body(String json);

    /** True once a write failed (the client disconnected). */
    boolean failed();
}
