package dev.qwen2j.examples;

import dev.qwen2j.model.Model;
import dev.qwen2j.server.ModelGenerator;
import dev.qwen2j.server.OpenAiServer;
import dev.qwen2j.server.ServerOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import sun.misc.Signal;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code qwen2j serve}: the model behind an OpenAI-compatible HTTP API until SIGTERM or Ctrl-C. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve the model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions,",
                "/v1/models, /health, /metrics). SIGTERM or Ctrl-C stops taking requests, lets running ones finish",
                "within --shutdown-grace and exits 0. Try: qwen2j serve --model demo"})
final class ServeCommand implements Callable<Integer> {

    @Mixin
    ModelSource source;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "HOST",
            description = "Address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 exposes it).")
    String host;

    @Option(names = "--port", defaultValue = "8080", paramLabel = "PORT", description = "TCP port (default: 8080; 0 = any free).")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Require 'Authorization: Bearer KEY' on every /v1 request.")
    String apiKey;

    @Option(names = "--max-batch", defaultValue = "8", paramLabel = "N",
            description = "Sequences decoded at once in one continuous batch, a request of n choices taking n "
                    + "(default: 8). They share one KV pool (see --kv-memory); a request waits until the pages it "
                    + "may take are free.")
    int maxBatch;

    @Option(names = "--kv-memory", paramLabel = "SIZE",
            description = "Size of the KV pool, allocated at start, e.g. 512m or 4g (default: half of the memory "
                    + "beside the Java heap and the weights, at most --max-batch full contexts). A request whose "
                    + "prompt and max_tokens could never fit in it is refused with 400.")
    String kvMemory;

    @Option(names = "--no-prefix-cache", negatable = false,
            description = "Do not keep the KV pages of earlier prompts for later prompts that start alike.")
    boolean noPrefixCache;

    @Option(names = "--max-queue", defaultValue = "64", paramLabel = "N",
            description = "Requests waiting beyond those; more are refused with 429 (default: 64).")
    int maxQueue;

    @Option(names = "--context", defaultValue = "0", paramLabel = "N",
            description = "Positions per generation, prompt included (default: the model's maximum). Each running "
                    + "generation holds a KV cache this long.")
    int context;

    @Option(names = "--shutdown-grace", defaultValue = "30", paramLabel = "SECONDS",
            description = "How long running requests may take to finish on shutdown (default: 30).")
    int shutdownGrace;

    @Option(names = "--thinking-budget", paramLabel = "N",
            description = "Close a reasoning model's thinking after N tokens and let it answer, for requests that "
                    + "set no thinking_token_budget (default: no limit).")
    Integer thinkingBudget;

    @Option(names = "--name", paramLabel = "ID",
            description = "The model id clients name (default: 'demo' or the model folder's name).")
    String name;

    @Mixin
    CommandErrors.Verbosity verbosity;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (shutdownGrace < 0) {
            throw new IllegalArgumentException("--shutdown-grace must be >= 0 seconds, got " + shutdownGrace);
        }
        if (context < 0) {
            throw new IllegalArgumentException("--context must be >= 0 (0 = the model's maximum), got " + context);
        }
        if (thinkingBudget != null && thinkingBudget < 1) {
            throw new IllegalArgumentException("--thinking-budget must be >= 1 tokens, got " + thinkingBudget);
        }
        long kvMemoryBytes = kvMemory == null ? 0 : parseSize(kvMemory);
        // Every flag is checked before the model loads.
        ServerOptions options = ServerOptions.defaults().withHost(host).withPort(port).withApiKey(apiKey)
                .withLimits(maxBatch, maxQueue).withShutdownGrace(Duration.ofSeconds(shutdownGrace))
                .withThinkingBudget(thinkingBudget == null ? 0 : thinkingBudget);
        try (Model model = source.load(context, err)) {
            String id = name != null ? name : ModelPaths.DEMO.equals(source.model) ? "demo"
                    : source.folder.toAbsolutePath().normalize().getFileName().toString();
            OpenAiServer server = OpenAiServer.start(new ModelGenerator(model, id, kvMemoryBytes, !noPrefixCache),
                    options);
            Runnable stop = () -> Thread.ofPlatform().name("qwen2j-serve-stop").start(server::stop);
            Signal.handle(new Signal("TERM"), signal -> stop.run());
            Signal.handle(new Signal("INT"), signal -> stop.run());
            out.println("qwen2j serving " + id + " on " + server.url());
            out.flush();
            server.awaitStop();
        }
        return 0;
    }

    /** {@code --kv-memory}: bytes, or a number with k, m, g or t (binary: 1k = 1024), with an optional "iB" or "b". */
    static long parseSize(String text) {
        String t = text.strip().toLowerCase(java.util.Locale.ROOT).replaceAll("(ib|b)$", "");
        long unit = 1;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                case 't' -> unit = 1L << 40;
                default -> { }
            }
        }
        String number = unit == 1 ? t : t.substring(0, t.length() - 1).strip();
        try {
            double value = Double.parseDouble(number);
            if (!(value > 0) || value * unit > Long.MAX_VALUE || !number.matches("[0-9.]+")) {
                throw new NumberFormatException();
            }
            return (long) (value * unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--kv-memory must be a size such as 512m, 4g or 1073741824, got '"
                    + text + "'");
        }
    }
}
