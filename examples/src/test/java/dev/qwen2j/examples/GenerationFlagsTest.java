package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qwen2j.core.checkpoint.RandomQwen2Checkpoint;
import dev.qwen2j.model.GenerationOptions;
import dev.qwen2j.model.GenerationResult;
import dev.qwen2j.model.Message;
import dev.qwen2j.model.Model;
import dev.qwen2j.model.ModelOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every generation flag of {@code generate} and {@code chat} reaches the option it names: parsed, each lands in
 * exactly its own {@link GenerationOptions} field; run end to end on a random checkpoint, the command prints what
 * {@link Model#generate} prints with that option set in-process, and something else without the flag (so a flag
 * that is dropped or wired to another option fails). The prompt-shaping flags ({@code --system}, {@code --raw})
 * show in the prompt token count of the statistics line.
 */
class GenerationFlagsTest {

    static final String PROMPT = "Tell me about the sea.";
    static final String SYSTEM = "You are a pirate who answers in one line.";

    @TempDir
    static Path dir;
    static Path folder;
    static Model model;

    @BeforeAll
    static void load() throws IOException {
        folder = RandomQwen2Checkpoint.builder().seed(31).maxPositionEmbeddings(512).write(dir.resolve("model"));
        model = Model.load(folder, ModelOptions.builder().threads(1).build());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** The options the {@code generate} command builds from {@code flags}. */
    private static GenerationOptions parsedGenerate(String... flags) {
        List<String> args = new ArrayList<>(List.of("generate", "--model", "demo", "--prompt", PROMPT));
        args.addAll(List.of(flags));
        CommandLine.ParseResult parsed = Main.commandLine().parseArgs(args.toArray(String[]::new));
        GenerateCommand command = (GenerateCommand) parsed.subcommand().commandSpec().userObject();
        return command.sampling.toBuilder().build();
    }

    @Test
    void eachFlagLandsInItsOwnOptionAndNoOther() {
        GenerationOptions none = parsedGenerate();
        assertNull(none.temperature());
        assertNull(none.topP());
        assertNull(none.topK());
        assertNull(none.minP());
        assertNull(none.repetitionPenalty());
        assertNull(none.presencePenalty());
        assertNull(none.frequencyPenalty());
        assertNull(none.systemPrompt());
        assertTrue(!none.hasSeed() && !none.hasMaxTokens());

        GenerationOptions all = parsedGenerate("--temperature", "0.25", "--top-p", "0.75", "--top-k", "7",
                "--min-p", "0.125", "--repetition-penalty", "1.5", "--seed", "99", "--max-tokens", "33",
                "--system", SYSTEM);
        assertEquals(0.25, all.temperature());
        assertEquals(0.75, all.topP());
        assertEquals(7, all.topK());
        assertEquals(0.125, all.minP());
        assertEquals(1.5, all.repetitionPenalty());
        assertNull(all.presencePenalty(), "--repetition-penalty must not set the presence penalty");
        assertNull(all.frequencyPenalty(), "--repetition-penalty must not set the frequency penalty");
        assertEquals(99, all.seed());
        assertEquals(33, all.maxTokens());
        assertEquals(SYSTEM, all.systemPrompt());
    }

    /** Seeded, sharp sampling (a random model's logits are nearly flat), a few tokens, on one thread. */
    private static final List<String> BASE = List.of("--threads", "1", "--temperature", "0.05", "--seed", "5",
            "--max-tokens", "8");

    private static GenerationOptions.Builder baseOptions() {
        return GenerationOptions.builder().temperature(0.05).seed(5).maxTokens(8);
    }

    /** Runs generate with {@link #BASE}, {@code flags} replacing a base flag of the same name. */
    private static Cli generate(List<String> flags) {
        List<String> args = new ArrayList<>(List.of("generate", "--model", folder.toString(), "--prompt", PROMPT));
        for (int i = 0; i < BASE.size(); i += 2) {
            if (!flags.contains(BASE.get(i))) {
                args.addAll(BASE.subList(i, i + 2));
            }
        }
        args.addAll(flags);
        Cli cli = Cli.run(args.toArray(String[]::new));
        assertEquals(0, cli.exitCode(), cli.err());
        return cli;
    }

    private static GenerationResult inProcess(GenerationOptions options) {
        return model.generate(PROMPT, options, text -> { });
    }

    /** The number in "prompt N tokens" of the statistics line. */
    private static int promptTokens(Cli cli) {
        Matcher m = Pattern.compile("prompt (\\d+) tokens").matcher(cli.err());
        assertTrue(m.find(), cli.err());
        return Integer.parseInt(m.group(1));
    }

    @Test
    void generateWithEachSamplingFlagPrintsWhatTheModelGeneratesWithThatOption() {
        Cli base = generate(List.of());
        assertEquals(inProcess(baseOptions().build()).text(), base.out());

        record Flag(List<String> args, UnaryOperator<GenerationOptions.Builder> option) {
        }
        List<Flag> flags = List.of(
                new Flag(List.of("--temperature", "0.5"), b -> b.temperature(0.5)),
                new Flag(List.of("--top-p", "0.3"), b -> b.topP(0.3)),
                new Flag(List.of("--top-k", "2"), b -> b.topK(2)),
                new Flag(List.of("--min-p", "0.9"), b -> b.minP(0.9)),
                new Flag(List.of("--repetition-penalty", "3"), b -> b.repetitionPenalty(3)),
                new Flag(List.of("--seed", "6"), b -> b.seed(6)),
                new Flag(List.of("--max-tokens", "5"), b -> b.maxTokens(5)));
        for (Flag flag : flags) {
            Cli cli = generate(flag.args());
            String expected = inProcess(flag.option().apply(baseOptions()).build()).text();
            assertEquals(expected, cli.out(), String.join(" ", flag.args()));
            assertNotEquals(base.out(), cli.out(), String.join(" ", flag.args()) + " must change the text");
        }
    }

    @Test
    void systemAndRawShapeThePromptAsTheModelDoes() {
        int chatDefault = inProcess(baseOptions().build()).promptTokens();
        int withSystem = inProcess(baseOptions().systemPrompt(SYSTEM).build()).promptTokens();
        int raw = inProcess(baseOptions().chat(false).build()).promptTokens();
        assertTrue(chatDefault != withSystem && withSystem != raw && raw != chatDefault);

        assertEquals(chatDefault, promptTokens(generate(List.of())));
        Cli system = generate(List.of("--system", SYSTEM));
        assertEquals(withSystem, promptTokens(system));
        assertEquals(inProcess(baseOptions().systemPrompt(SYSTEM).build()).text(), system.out());
        Cli rawRun = generate(List.of("--raw"));
        assertEquals(raw, promptTokens(rawRun));
        assertEquals(inProcess(baseOptions().chat(false).build()).text(), rawRun.out());
    }

    @Test
    void chatPassesTheSystemPromptAndTheSamplingFlags() {
        String[] args = {"chat", "--model", folder.toString(), "--plain", "--threads", "1", "--temperature", "0.05",
                "--seed", "5", "--max-tokens", "6", "--repetition-penalty", "3", "--system", SYSTEM};
        Cli cli = Cli.runWithStdio(PROMPT + "\n", args);
        assertEquals(0, cli.exitCode(), cli.err());
        GenerationOptions options = baseOptions().maxTokens(6).repetitionPenalty(3).build();
        GenerationResult expected = model.chat(List.of(Message.system(SYSTEM), Message.user(PROMPT)), options,
                text -> { });
        assertEquals(expected.promptTokens(), promptTokens(cli));
        assertTrue(cli.out().contains(expected.text()), cli.out());
        GenerationResult withoutSystem = model.chat(List.of(Message.user(PROMPT)), options, text -> { });
        assertNotEquals(withoutSystem.promptTokens(), expected.promptTokens());
    }
}
