package dev.qwen2j.examples;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random flag values and random JSON (configs, messages files) thrown at every command, seeded so that a failure
 * repeats: each run must exit 0 with sane output, or print exactly one line on stderr and exit non-zero; never a
 * stack trace, never a hang.
 */
@ExtendWith(TemporaryDemoCache.class)
class CliFuzzTest {

    private static final long SEED = 16;
    private static final int RUNS = 48;
    private static final Duration PER_RUN = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** Values that break parsers and validators: signs, float range edges, overflow, text, emptiness. */
    private static final String[] NUMBERS = {"0", "1", "-1", "2", "3", "0.5", "0.999", "1.0001", "1e39", "-1e39",
            "1e-50", "1e308", "NaN", "Infinity", "-Infinity", "2147483647", "2147483648", "-2147483648",
            "9223372036854775808", "abc", "", " ", "0x10", "1_000", "١"};
    private static final String[] SMALL_COUNTS = {"0", "-1", "abc", "100000", "2147483647", "1e9"};
    private static final String[] TEXTS = {"What is 12+34?", "", " ", "hi", "<|im_end|>", "<think>", "\u0000",
            "ü€𝄞", "x".repeat(3000), "\uD800", "%s %n {{ x }}", "{% for x in range(10) %}{% endfor %}"};

    @TempDir
    static Path dir;
    private static final List<String> MODELS = new ArrayList<>();
    private static final List<Path> MESSAGE_FILES = new ArrayList<>();

    @BeforeAll
    static void prepareModelsAndFiles() throws IOException {
        Random random = new Random(SEED);
        Path demo = DemoModel.folder();
        MODELS.addAll(List.of("demo", "demo", demo.toString(), dir.resolve("missing").toString(),
                demo.resolve("config.json").toString(), "", "-"));
        for (int i = 0; i < 8; i++) {
            MODELS.add(mutatedCopy(demo, dir.resolve("model-" + i), random).toString());
        }
        for (int i = 0; i < 8; i++) {
            Path file = dir.resolve("messages-" + i + ".json");
            Files.write(file, randomMessages(random).getBytes(StandardCharsets.UTF_8));
            MESSAGE_FILES.add(file);
        }
    }

    /** The demo folder with one of its JSON files changed at random; the big files are hard links. */
    private static Path mutatedCopy(Path demo, Path copy, Random random) throws IOException {
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(demo)) {
            for (Path file : files.toList()) {
                Path target = copy.resolve(file.getFileName());
                if (file.toString().endsWith(".json")) {
                    Files.copy(file, target);
                } else {
                    Files.createLink(target, file);
                }
            }
        }
        String[] jsonFiles = {"config.json", "config.json", "config.json", "generation_config.json",
                "tokenizer_config.json"};
        Path victim = copy.resolve(jsonFiles[random.nextInt(jsonFiles.length)]);
        String text = Files.readString(victim);
        if (random.nextInt(5) == 0) { // broken JSON: cut short, or something that is not an object
            String[] broken = {text.substring(0, random.nextInt(text.length())), "[]", "null", "7", "", "{\"a\":"};
            Files.write(victim, broken[random.nextInt(broken.length)].getBytes(StandardCharsets.UTF_8));
        } else {
            ObjectNode root = (ObjectNode) JSON.readTree(text);
            List<String> fields = new ArrayList<>();
            root.fieldNames().forEachRemaining(fields::add);
            for (int i = 0, n = 1 + random.nextInt(3); i < n; i++) {
                String field = fields.get(random.nextInt(fields.size()));
                if (random.nextInt(4) == 0) {
                    root.remove(field);
                } else {
                    root.set(field, randomValue(random, 2));
                }
            }
            Files.write(victim, JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8));
        }
        return copy;
    }

    private static JsonNode randomValue(Random random, int depth) {
        return switch (random.nextInt(depth > 0 ? 12 : 10)) {
            case 0 -> NODES.nullNode();
            case 1 -> NODES.numberNode(-1);
            case 2 -> NODES.numberNode(0);
            case 3 -> NODES.numberNode(random.nextInt(5000));
            case 4 -> NODES.numberNode(1e39);
            case 5 -> NODES.numberNode(2147483648L);
            case 6 -> NODES.numberNode(0.5);
            case 7 -> NODES.booleanNode(random.nextBoolean());
            case 8 -> NODES.textNode(TEXTS[random.nextInt(TEXTS.length)]);
            case 9 -> NODES.textNode("silu");
            case 10 -> {
                ArrayNode array = NODES.arrayNode();
                for (int i = 0, n = random.nextInt(3); i < n; i++) {
                    array.add(randomValue(random, depth - 1));
                }
                yield array;
            }
            default -> {
                ObjectNode object = NODES.objectNode();
                object.set("role", randomValue(random, 0));
                object.set("content", randomValue(random, depth - 1));
                yield object;
            }
        };
    }

    /** A messages file: mostly a list of role/content objects with odd values, sometimes not even that. */
    private static String randomMessages(Random random) throws IOException {
        if (random.nextInt(4) == 0) {
            String[] odd = {"", "[", "{}", "[1, 2]", "\"user\"", "[{}]", "null"};
            return odd[random.nextInt(odd.length)];
        }
        ArrayNode messages = NODES.arrayNode();
        String[] roles = {"system", "user", "assistant", "tool", "", "User"};
        for (int i = 0, n = random.nextInt(4); i < n; i++) {
            ObjectNode m = messages.addObject();
            m.put("role", roles[random.nextInt(roles.length)]);
            if (random.nextInt(3) == 0) {
                m.set("content", randomValue(random, 1));
            } else {
                m.put("content", TEXTS[random.nextInt(TEXTS.length)]);
            }
        }
        return JSON.writeValueAsString(messages);
    }

    @Test
    void randomFlagsAndFilesGiveSaneOutputOrOneErrorLine() {
        Random random = new Random(SEED);
        int succeeded = 0;
        for (int run = 0; run < RUNS; run++) {
            Invocation invocation = randomInvocation(random, run);
            Cli cli = assertTimeoutPreemptively(PER_RUN,
                    () -> Cli.runWithStdio(invocation.stdin(), invocation.args()),
                    () -> "hung: " + invocation);
            String what = invocation + "\nexit " + cli.exitCode() + "\nstderr: " + cli.err() + "\nstdout: "
                    + cli.out().substring(0, Math.min(300, cli.out().length()));
            assertFalse(cli.err().contains("\tat ") || cli.out().contains("\tat "), "stack trace: " + what);
            if (cli.exitCode() == 0) {
                assertTrue(invocation.sane(cli), "insane output: " + what);
                succeeded++;
            } else {
                assertTrue(cli.oneErrorLine(), "not one error line: " + what);
            }
            if (Boolean.getBoolean("qwen2j.fuzz.log")) {
                System.out.println(invocation + " -> " + cli.exitCode() + " " + cli.err().strip().lines().reduce((a, b) -> b).orElse(""));
            }
        }
        System.out.println("fuzz: " + RUNS + " runs, " + succeeded + " succeeded, " + (RUNS - succeeded) + " one-line errors");
    }

    private record Invocation(String command, byte[] stdin, List<String> argList) {
        String[] args() {
            return argList.toArray(String[]::new);
        }

        /** What a successful run of this command prints. */
        boolean sane(Cli cli) {
            return switch (command) {
                case "generate" -> cli.err().contains("· finish ");
                case "chat" -> cli.out().startsWith("qwen2j chat with ");
                case "bench" -> cli.out().strip().lines().count() == 1 && isJsonWith(cli.out(), "decode_tok_s");
                case "inspect" -> cli.out().startsWith("model ");
                case "tokenize" -> argList.contains("--decode") || cli.out().matches("[0-9 ]*\n");
                case "synth" -> cli.err().startsWith("synth: wrote ");
                case "template" -> !cli.out().isEmpty();
                default -> !cli.out().isEmpty(); // help and version
            };
        }

        private static boolean isJsonWith(String text, String key) {
            try {
                return JSON.readTree(text).has(key);
            } catch (IOException e) {
                return false;
            }
        }

        @Override
        public String toString() {
            return "qwen2j " + String.join(" ", argList.stream().map(a -> a.length() > 40 ? a.substring(0, 40) + "…" : a)
                    .map(a -> "'" + a + "'").toList());
        }
    }

    private static String pick(Random random, String... values) {
        return values[random.nextInt(values.length)];
    }

    /** Mostly a plausible value (so that runs get past parsing into loading and generating), sometimes a hostile one. */
    private static String value(Random random, String... plausible) {
        return random.nextInt(10) < 7 ? pick(random, plausible) : pick(random, NUMBERS);
    }

    private static Invocation randomInvocation(Random random, int run) {
        String[] commands = {"generate", "generate", "generate", "chat", "tokenize", "tokenize", "inspect", "template",
                "template", "bench", "synth", "other"};
        String command = commands[random.nextInt(commands.length)];
        List<String> args = new ArrayList<>();
        byte[] stdin = new byte[0];
        String model = MODELS.get(random.nextInt(MODELS.size()));
        switch (command) {
            case "generate", "chat" -> {
                args.addAll(List.of(command, "--model", model));
                if (command.equals("generate")) {
                    args.addAll(List.of("--prompt", pick(random, TEXTS)));
                } else {
                    stdin = (pick(random, TEXTS) + "\n/reset\n" + pick(random, TEXTS) + "\n/exit\n")
                            .getBytes(StandardCharsets.UTF_8);
                    args.add("--plain");
                }
                args.addAll(List.of("--max-tokens", random.nextInt(10) < 8 ? pick(random, "1", "2", "4", "8")
                        : pick(random, SMALL_COUNTS)));
                String[][] flags = {{"--temperature", "0", "0.7", "1", "1.5"}, {"--top-p", "0.9", "1", "0.5"},
                        {"--top-k", "0", "1", "20", "50"}, {"--min-p", "0", "0.05"},
                        {"--repetition-penalty", "1", "1.1", "0.9"}, {"--seed", "1", "42", "-7"},
                        {"--threads", "1", "2", "0"}};
                for (String[] flag : flags) {
                    if (random.nextInt(3) == 0) {
                        args.addAll(List.of(flag[0], value(random, Arrays.copyOfRange(flag, 1, flag.length))));
                    }
                }
                if (random.nextInt(4) == 0) {
                    args.addAll(List.of("--system", pick(random, TEXTS)));
                }
                if (random.nextInt(4) == 0) {
                    args.add("--raw");
                }
            }
            case "tokenize" -> {
                args.addAll(List.of("tokenize", "--model", model));
                if (random.nextBoolean()) {
                    args.add("--decode");
                    stdin = pick(random, "1 2 3", "151643 151645", "-1", "99999999", "abc", "", "12 ١٢")
                            .getBytes(StandardCharsets.UTF_8);
                } else {
                    stdin = new byte[random.nextInt(64)];
                    random.nextBytes(stdin); // mostly invalid UTF-8
                }
                if (random.nextInt(3) == 0) {
                    args.add("--skip-special-tokens");
                }
            }
            case "inspect" -> args.addAll(List.of("inspect", "--model", model));
            case "template" -> {
                args.addAll(List.of("template", "--model", model, "--messages",
                        MESSAGE_FILES.get(random.nextInt(MESSAGE_FILES.size())).toString()));
                if (random.nextInt(3) == 0) {
                    args.addAll(List.of("--tools", MESSAGE_FILES.get(random.nextInt(MESSAGE_FILES.size())).toString()));
                }
                if (random.nextInt(3) == 0) {
                    args.addAll(List.of("--var", pick(random, "x=1", "=", "a", "enable_thinking=false", "")));
                }
            }
            case "bench" -> args.addAll(List.of("bench", "--model", model,
                    "--prompt-tokens", value(random, "1", "4", "16"), "--gen-tokens", value(random, "1", "2", "4"),
                    "--warmup", value(random, "0", "1"), "--runs", value(random, "1"),
                    "--threads", value(random, "1", "2")));
            case "synth" -> args.addAll(List.of("synth", "--shape", random.nextInt(4) > 0 ? "tiny" : pick(random, "TINY", "huge", ""),
                    "--out", dir.resolve("synth-" + run).toString(), "--dtype", value(random, "f32", "BF16", "f16"),
                    "--seed", value(random, "1", "-5")));
            default -> args.addAll(Arrays.asList(pick(random, "", "frobnicate", "--help", "--version", "help generate",
                    "generate --model", "--model demo", "bench --runs").split(" ")));
        }
        return new Invocation(command, stdin, args);
    }
}
