package dev.qwen2j.examples;

import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A LangChain4j streaming handler that keeps the answer and thinking pieces and completes with the response. */
final class CollectingHandler implements StreamingChatResponseHandler {

    final StringBuilder answer = new StringBuilder();
    final StringBuilder thinking = new StringBuilder();
    private final CompletableFuture<ChatResponse> done = new CompletableFuture<>();

    @Override
    public void onPartialResponse(String text) {
        answer.append(text);
    }

    @Override
    public void onPartialThinking(PartialThinking text) {
        thinking.append(text.text());
    }

    @Override
    public void onCompleteResponse(ChatResponse response) {
        done.complete(response);
    }

    @Override
    public void onError(Throwable error) {
        done.completeExceptionally(error);
    }

    ChatResponse await() throws Exception {
        return done.get(120, TimeUnit.SECONDS);
    }
}
