package dev.qwen2j.server;

import io.javalin.http.Context;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * {@link EventStream} on a Javalin request. The SSE headers go out with the first event, so a request refused
 * before any text (context too long, queue full) still gets its error status. Each event is flushed: a client
 * that left makes the write fail (the reset arrives after the first write into the closed socket), which cancels
 * the generation at its next token.
 */
final class HttpEventStream implements EventStream {

    private final Context ctx;
    private OutputStream out;
    private volatile boolean failed;

    HttpEventStream(Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public void event(String payload) {
        if (failed) {
            return;
        }
        try {
            if (out == null) {
                ctx.status(200);
                ctx.res().setContentType("text/event-stream; charset=utf-8");
                ctx.res().setHeader("Cache-Control", "no-cache");
                ctx.res().setHeader("X-Accel-Buffering", "no");
                out = ctx.res().getOutputStream();
            }
            out.write(("data: " + payload + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException | RuntimeException e) {
            failed = true; // the client is gone (Jetty's EofException is an IOException)
        }
    }

    @Override
    public void body(String json) {
        ctx.status(200).contentType("application/json").result(json);
    }

    @Override
    public boolean failed() {
        return failed;
    }

    /** Ends a stream: closing it ends the chunked body now (else the container would finish it only later). */
    void close() {
        if (out != null && !failed) {
            try {
                out.close();
            } catch (IOException e) {
                failed = true;
            }
        }
    }

    /** True once the stream's headers went out: errors must then travel as an event. */
    boolean committed() {
        return out != null;
    }
}
