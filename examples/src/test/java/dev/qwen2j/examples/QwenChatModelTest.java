package dev.qwen2j.examples;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.qwen2j.langchain4j.QwenChatModel;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.Model;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link QwenChatModel}, LangChain4j's chat model in-process, on the demo model. */
@ExtendWith(TemporaryDemoCache.class)
@Timeout(120)
class QwenChatModelTest {

    private static Model model;
    private static QwenChatModel chat;

    @BeforeAll
    static void load() throws Exception {
        model = Model.load(DemoModel.folder());
        chat = new QwenChatModel(model, GenerationOptions.builder().maxTokens(64).build());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void chatKeepsTheThinkingApart() {
        ChatResponse response = chat.chat(ChatRequest.builder().messages(UserMessage.from("What is 358+479?")).build());
        assertEquals("837", response.aiMessage().text());
        assertEquals("8+9=17\n5+7+1=13\n3+4+1=8", response.aiMessage().thinking());
        assertEquals(FinishReason.STOP, response.finishReason());
        assertEquals(response.tokenUsage().inputTokenCount() + response.tokenUsage().outputTokenCount(),
                response.tokenUsage().totalTokenCount());
        assertEquals("837", chat.chat("What is 358+479?"));
    }

    @Test
    void streamingDeliversThinkingAndAnswerPieces() throws Exception {
        CollectingHandler handler = new CollectingHandler();
        chat.chat(ChatRequest.builder().messages(UserMessage.from("What is 1234+4321?")).build(), handler);
        assertEquals("5555", handler.await().aiMessage().text());
        assertEquals("5555", handler.answer.toString());
        assertEquals("4+1=5\n3+2=5\n2+3=5\n1+4=5", handler.thinking.toString().strip()); // as generated, line breaks too
    }

    @Test
    void toolsAndAToolRoundTripRenderAndRun() {
        // The demo model cannot call tools (AssistantOutputTest covers the parsing); here the whole conversation of
        // a tool round trip must reach the template and generate.
        ToolSpecification add = ToolSpecification.builder().name("add").description("Adds two numbers")
                .parameters(JsonObjectSchema.builder().addIntegerProperty("a").addIntegerProperty("b").build()).build();
        ToolExecutionRequest call = ToolExecutionRequest.builder().id("call_1").name("add")
                .arguments("{\"a\": 358, \"b\": 479}").build();
        ChatResponse response = chat.chat(ChatRequest.builder().messages(SystemMessage.from("You add."),
                UserMessage.from("What is 358+479?"), AiMessage.from(call),
                ToolExecutionResultMessage.from(call, "837")).toolSpecifications(add).build());
        assertNotNull(response.aiMessage());
        assertThrows(IllegalArgumentException.class, () -> chat.chat(ChatRequest.builder().messages(
                UserMessage.from("x"), AiMessage.from(ToolExecutionRequest.builder().name("add").arguments("{not json")
                        .build())).build()));
    }
}
