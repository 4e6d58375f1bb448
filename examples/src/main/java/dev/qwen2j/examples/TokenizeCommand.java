package dev.qwen2j.examples;

import dev.qwen2j.core.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/**
 * {@code qwen2j tokenize}: standard input (all of it, as one UTF-8 text) to token ids on one line, or
 * with {@code --decode} whitespace-separated ids back to text, printed exactly (no newline added).
 */
@Command(name = "tokenize",
        mixinStandardHelpOptions = true,
        description = {"Print the token ids of standard input (read whole, as UTF-8) on one line; input that is not",
                "valid UTF-8 gets a warning on stderr naming the first bad byte, and U+FFFD for the bad bytes.",
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
        byte[] bytes = System.in.readAllBytes();
        String input = new String(bytes, StandardCharsets.UTF_8);
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
            int invalid = firstInvalidUtf8(bytes);
            if (invalid >= 0) {
                // A warning, not an error: Hugging Face tokenizers take text, and text from bytes that are not
                // UTF-8 gets U+FFFD in their place (Python's errors="replace" does the same); say where.
                spec.commandLine().getErr().println("qwen2j tokenize: warning: standard input is not valid UTF-8"
                        + " (first bad byte at offset " + invalid + "); invalid bytes were read as U+FFFD");
                spec.commandLine().getErr().flush();
            }
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

    /** Offset of the first byte of {@code bytes} that is not part of valid UTF-8, or -1 when all are. */
    static int firstInvalidUtf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(8192);
        while (true) {
            CoderResult result = decoder.decode(in, out, true);
            if (result.isError()) {
                return in.position();
            }
            if (result.isUnderflow()) {
                return -1;
            }
            out.clear(); // overflow: the characters themselves are not needed
        }
    }
}
