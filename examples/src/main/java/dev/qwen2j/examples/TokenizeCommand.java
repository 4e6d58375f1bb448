package dev.qwen2j.examples;

import dev.qwen2j.core.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/**
 * {@code qwen2j tokenize}: standard input (all of it, as one UTF-8 text) to token ids on one line, or
 * with {@code --decode} whitespace-separated ids back to text, printed exactly (no newline added).
 */
@Command(name = "tokenize",
        mixinStandardHelpOptions = true,
        description = {"Print the token ids of standard input (read whole, as UTF-8) on one line.",
                "With --decode, read token ids and print their text exactly."})
public final class TokenizeCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR|demo",
            description = "Model folder with tokenizer.json (and tokenizer_config.json), or 'demo' for the built-in demo model.")
    private String model;

    @Option(names = "--decode", description = "Read ids from standard input and print the text.")
    private boolean decode;

    @Option(names = "--skip-special-tokens", description = "With --decode: leave out special tokens such as <|im_end|>.")
    private boolean skipSpecialTokens;

    @Override
    public Integer call() throws IOException {
        // Bytes in, bytes out: the platform charset of the terminal must not touch the text.
        String input = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        int[] ids = null;
        if (decode) {
            String[] fields = input.strip().isEmpty() ? new String[0] : input.strip().split("\\s+");
            ids = new int[fields.length];
            for (int i = 0; i < fields.length; i++) {
                try {
                    ids[i] = Integer.parseInt(fields[i]);
                } catch (NumberFormatException e) {
                    spec.commandLine().getErr().println("qwen2j tokenize --decode: '" + fields[i]
                            + "' (item " + (i + 1) + ") is not a token id");
                    return 1;
                }
            }
        }
        Tokenizer tokenizer;
        try {
            tokenizer = Tokenizer.load(ModelPaths.resolve(model));
        } catch (IOException e) {
            spec.commandLine().getErr().println("qwen2j tokenize: " + e.getMessage());
            return 1;
        }
        String output;
        if (decode) {
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] < 0 || ids[i] >= tokenizer.vocabSize()) {
                    spec.commandLine().getErr().println("qwen2j tokenize --decode: token id " + ids[i]
                            + " is out of range (vocabulary size " + tokenizer.vocabSize() + ")");
                    return 1;
                }
            }
            output = tokenizer.decode(ids, skipSpecialTokens);
        } else {
            StringBuilder line = new StringBuilder();
            for (int id : tokenizer.encode(input)) {
                if (!line.isEmpty()) {
                    line.append(' ');
                }
                line.append(id);
            }
            output = line.append('\n').toString();
        }
        System.out.write(output.getBytes(StandardCharsets.UTF_8));
        System.out.flush();
        return 0;
    }
}
