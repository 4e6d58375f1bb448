package dev.qwen2j.model;

import dev.qwen2j.core.chat.ChatTemplate;
import dev.qwen2j.core.chat.ReasoningFormat;
import dev.qwen2j.core.config.GenerationDefaults;
import dev.qwen2j.core.config.Qwen2Config;
import dev.qwen2j.core.safetensors.Checkpoint;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.core.sampling.Sampler;
import dev.qwen2j.core.tokenizer.Tokenizer;
import dev.qwen2j.quant.CompressedTensors;
import dev.qwen2j.quant.Quantization;
import dev.qwen2j.quant.QuantizationProgress;
import dev.qwen2j.tensor.Backend;
import dev.qwen2j.tensor.BackendProvider;
import dev.qwen2j.tensor.CpuBackend;
import dev.qwen2j.tensor.KvCacheLayer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A Qwen2-family model loaded from a Hugging Face folder (config.json, *.safetensors, tokenizer.json,
 * tokenizer_config.json, optionally generation_config.json), ready to generate.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("Qwen2.5-0.5B-Instruct"))) {
 *     System.out.println(model.generate("Why is the sky blue?"));
 * }
 * }</pre>
 *
 * <p>The weights stay in the memory-mapped files; loading reads headers and configs only. A model is immutable
 * and thread-safe: every generation runs in its own session (KV cache and scratch buffers, pooled and reused), so
 * several threads may generate at once and each gets exactly what it would get alone. Close the model after the
 * last generation has returned; a generation still running when it is closed ends at its next token with an
 * {@link IllegalStateException} ("model closed"), and the resources are freed once it has.
 *
 * <p>Interrupting a generating thread ends its generation within one token with {@link FinishReason#CANCELLED}
 * (the thread's interrupt status stays set); the model stays usable. Before every generation the weights files are
 * checked against what was mapped: a file truncated or replaced since loading is refused with an
 * {@link IllegalStateException} naming it (a file changed during a generation can still crash the JVM: mapped
 * memory whose file shrank faults with SIGBUS).
 */
public final class Model implements AutoCloseable {

    private final Path folder;
    private final Qwen2Config config;
    private final GenerationDefaults generationDefaults;
    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final Checkpoint checkpoint;
    private static final Logger LOG = LoggerFactory.getLogger(Model.class);

    private final LayerSplit split;
    private final Qwen2 qwen2;
    private final ModelOptions options;
    private final int contextLength;
    private final ConcurrentLinkedQueue<Session> idleSessions = new ConcurrentLinkedQueue<>();
    /** Generations between {@link #enter()} and {@link #exit()}: the last one out after close() frees. */
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicBoolean freed = new AtomicBoolean();
    private volatile boolean closed;

    private Model(Path folder, Qwen2Config config, GenerationDefaults generationDefaults, Tokenizer tokenizer,
                  ChatTemplate chatTemplate, Checkpoint checkpoint, Qwen2 qwen2, ModelOptions options) {
        this.folder = folder;
        this.config = config;
        this.generationDefaults = generationDefaults;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.checkpoint = checkpoint;
        this.split = qwen2.split();
        this.qwen2 = qwen2;
        this.options = options;
        this.contextLength = options.contextLengthFor(config.maxPositionEmbeddings());
    }

    /** Loads the model in {@code folder} with {@link ModelOptions#defaults()}. */
    public static Model load(Path folder) throws IOException {
        return load(folder, ModelOptions.defaults());
    }

    /**
     * Loads the model in {@code folder}. A thread whose interrupt status is set when it calls this loads anyway
     * (the status stays set); an interrupt that arrives while loading may end it with an {@code IOException}.
     *
     * @throws IOException              when the folder, a config, the tokenizer or the weights are missing or
     *                                  malformed; the message names the file and the field or tensor
     * @throws IllegalArgumentException when the KV cache of {@code options.contextLength()} positions could not
     *                                  fit in this machine's memory (the message gives the limit)
     */
    public static Model load(Path folder, ModelOptions options) throws IOException {
        return load(folder, options, QuantizationProgress.NONE);
    }

    /**
     * Loads the model in {@code folder}, telling {@code progress} how quantizing at load ({@link ModelOptions#quantize()})
     * advances. A compressed-tensors int8 folder is recognised from its config.json and mapped as it is.
     *
     * @throws IOException when the folder, a config, the tokenizer or the weights are missing or malformed, or the
     *                     quantization config asks for what qwen2j does not run; the message names the file and the
     *                     field or tensor
     */
    public static Model load(Path folder, ModelOptions options, QuantizationProgress progress) throws IOException {
        return load(folder, options, progress, (config, int8GroupSize) -> place(config, options, int8GroupSize));
    }

    /** Chooses each layer's backend for the model: see {@link LayerSplit}. */
    interface Placement {
        /** @param int8GroupSize the int8 weights' group size, 0 for float weights */
        LayerSplit place(Qwen2Config config, int int8GroupSize);
    }

    /**
     * The backends {@code options} ask for: the CPU; or a CUDA device (through the {@code qwen2j-cuda} module's
     * {@link BackendProvider}) for all layers or the first {@code gpuLayers}, the rest on the CPU; or, for
     * {@code auto}, CUDA when it opens and else the CPU, saying why in one line.
     */
    private static LayerSplit place(Qwen2Config config, ModelOptions options, int int8GroupSize) {
        int layers = config.numHiddenLayers();
        Device device = options.device();
        if (device.kind() == Device.Kind.CPU) {
            return LayerSplit.of(CpuBackend.create(options.threads(), options.vectorBits()), layers);
        }
        int gpuLayers = options.gpuLayers() < 0 ? layers : options.gpuLayers();
        if (gpuLayers > layers) {
            throw new IllegalArgumentException("gpuLayers " + gpuLayers + ": the model has " + layers + " layers");
        }
        Backend gpu;
        try {
            BackendProvider provider = BackendProvider.find("cuda").orElseThrow(() -> new IllegalStateException(
                    "device " + device + " needs the qwen2j-cuda module on the class path"));
            gpu = provider.open(new BackendProvider.Request(device.index(), config, gpuLayers,
                    options.contextLengthFor(config.maxPositionEmbeddings()), options.kvCacheType(), int8GroupSize));
        } catch (RuntimeException e) {
            if (device.kind() != Device.Kind.AUTO) {
                throw e;
            }
            LOG.warn("device auto: no CUDA ({}); running on the CPU", e.getMessage());
            return LayerSplit.of(CpuBackend.create(options.threads(), options.vectorBits()), layers);
        }
        if (gpuLayers == layers) {
            return LayerSplit.of(gpu, layers);
        }
        try {
            return new LayerSplit(gpu, gpuLayers, CpuBackend.create(options.threads(), options.vectorBits()), layers);
        } catch (RuntimeException | Error e) {
            gpu.close();
            throw e;
        }
    }

    /**
     * As {@link #load(Path, ModelOptions, QuantizationProgress)} on the backends {@code placement} makes for the
     * config; the model owns and closes them (also when loading fails).
     */
    static Model load(Path folder, ModelOptions options, QuantizationProgress progress, Placement placement)
            throws IOException {
        Objects.requireNonNull(folder, "folder");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(progress, "progress");
        // A pending interrupt closes every file channel this thread opens (ClosedByInterruptException).
        boolean interrupted = Thread.interrupted();
        try {
            return loadUninterrupted(folder, options, progress, placement);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Model loadUninterrupted(Path folder, ModelOptions options, QuantizationProgress progress,
                                           Placement placement) throws IOException {
        if (!Files.isDirectory(folder)) {
            throw new IOException(folder + ": " + (Files.exists(folder) ? "not a folder" : "no such folder")
                    + " (expected a Hugging Face model folder with config.json and *.safetensors)");
        }
        if (!Files.isReadable(folder) || !Files.isExecutable(folder)) {
            throw new AccessDeniedException(folder.toString(), null, "permission denied: cannot read the model folder");
        }
        // The tokenizer (a 7 MB tokenizer.json) takes longest to read: parse it on a second thread while this
        // one reads the configs and the chat template and maps the weights.
        FutureTask<Tokenizer> tokenizerLoad = new FutureTask<>(() -> Tokenizer.load(folder));
        Thread.ofPlatform().daemon().name("qwen2j-tokenizer-load").start(tokenizerLoad);
        Checkpoint checkpoint = null;
        LayerSplit split = null;
        try {
            Qwen2Config config = Qwen2Config.load(folder);
            checkKvCacheFits(config, options);
            GenerationDefaults generationDefaults = GenerationDefaults.load(folder);
            ChatTemplate chatTemplate = ChatTemplate.load(folder);
            checkpoint = Checkpoint.open(folder);
            CompressedTensors stored = CompressedTensors.read(folder).orElse(null);
            split = placement.place(config, int8GroupSize(config, stored, options.quantize()));
            Qwen2Weights weights = Qwen2Weights.load(checkpoint, config, split, stored, options.quantize(), progress);
            Tokenizer tokenizer = await(tokenizerLoad);
            return new Model(folder, config, generationDefaults, tokenizer, chatTemplate, checkpoint,
                    new Qwen2(config, weights, split), options);
        } catch (IOException | RuntimeException | Error e) {
            tokenizerLoad.cancel(true);
            if (split != null) {
                split.backends().forEach(Backend::close);
            }
            if (checkpoint != null) {
                checkpoint.close();
            }
            throw e;
        }
    }

    /** The group size the int8 weights will have (the hidden size for per-channel scales), or 0 for float ones. */
    private static int int8GroupSize(Qwen2Config config, CompressedTensors stored, Quantization quantize) {
        int group = quantize != null ? quantize.groupSize()
                : stored != null && !stored.groups().isEmpty() ? stored.groups().getFirst().groupSize() : -1;
        return group < 0 ? 0 : group == 0 ? config.hiddenSize() : group;
    }

    /** A context whose KV cache cannot fit fails here, not as an OutOfMemoryError at the first generation. */
    private static void checkKvCacheFits(Qwen2Config config, ModelOptions options) {
        int positions = options.contextLengthFor(config.maxPositionEmbeddings());
        long needed = kvCacheBytes(config, positions, options.kvCacheType());
        if (needed <= Runtime.getRuntime().maxMemory()) {
            return; // the common case, decided without asking the OS
        }
        long memory = physicalMemoryBytes();
        if (needed > memory) {
            long perPosition = Math.max(1, needed / positions);
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "contextLength %d needs a %s KV cache of %.1f GiB per session (%d bytes per position), more than "
                            + "this machine's %.1f GiB of memory: at most %d positions fit", positions,
                    options.kvCacheType(), needed / GIB, perPosition, memory / GIB, memory / perPosition));
        }
    }

    private static final double GIB = 1L << 30;

    /** Total physical memory (the container's limit where there is one), or Long.MAX_VALUE when unknown. */
    private static long physicalMemoryBytes() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return Long.MAX_VALUE;
    }

    private static Tokenizer await(FutureTask<Tokenizer> load) throws IOException {
        try {
            return load.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while loading the tokenizer", e);
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case IOException io -> throw io;
                case RuntimeException re -> throw re;
                case Error error -> throw error;
                default -> throw new IOException(e.getCause());
            }
        }
    }

    /** Generates a reply to {@code prompt}, chat-formatted with the model's own template, with default options. */
    public String generate(String prompt) {
        return generate(prompt, GenerationOptions.defaults(), text -> { }).text();
    }

    /**
     * Generates from {@code prompt}: chat-formatted with the model's template (a user message, after the system
     * prompt when the options give one), or fed as is when {@code options.chat()} is false. Text is streamed to
     * {@code listener} as it is decoded.
     *
     * @throws ContextLengthExceededException when prompt tokens + maxTokens exceed the context length
     */
    public GenerationResult generate(String prompt, GenerationOptions options, GenerationListener listener) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(listener, "listener");
        requireOneSample(options);
        String text = options.chat() ? render(List.of(Message.user(prompt)), options) : prompt;
        return run(text, options, listener);
    }

    /**
     * Generates from each of {@code prompts} (formatted as {@link #generate(String, GenerationOptions,
     * GenerationListener)} does), decoding all of them together in one batch, in the order given. Every prompt samples
     * with the options' seed; see {@link #generateAll(List, int)}.
     *
     * @throws ContextLengthExceededException when a prompt's tokens + maxTokens exceed the context length
     */
    public List<GenerationResult> generateAll(List<String> prompts, GenerationOptions options) {
        Objects.requireNonNull(prompts, "prompts");
        Objects.requireNonNull(options, "options");
        List<BatchRequest> requests = new ArrayList<>(prompts.size());
        for (String prompt : prompts) {
            requests.add(BatchRequest.of(Objects.requireNonNull(prompt, "prompts: a null prompt"), options));
        }
        return generateAll(requests, Math.max(1, prompts.size()));
    }

    /**
     * Generates each of {@code requests}, at most {@code batchSize} of them decoding together: as one finishes, the
     * next is prefilled and joins the batch (continuous batching). Each samples with its own options' seed, and what
     * it generates does not depend on which requests share its steps nor on {@code batchSize}: a batch's linear maps
     * sum every row in one order, however many rows a step holds. (A lone {@link #generate} takes a faster one-token
     * path, so it may differ from a batch in the last bits of a logit, and then in a token that hinged on them.)
     * Every prompt is encoded and checked before any is generated. The results come in the order given.
     *
     * @throws ContextLengthExceededException when a request's prompt tokens + maxTokens exceed the context length
     * @throws IllegalArgumentException       when batchSize is below 1, or a request's options ask for more samples
     */
    public List<GenerationResult> generateAll(List<BatchRequest> requests, int batchSize) {
        Objects.requireNonNull(requests, "requests");
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        }
        if (requests.isEmpty()) {
            return List.of();
        }
        return entered(() -> {
            List<PreparedPrompt> prepared = new ArrayList<>(requests.size());
            int[] pages = new int[requests.size()];
            int longestPrompt = 0;
            for (BatchRequest b : requests) {
                Objects.requireNonNull(b, "requests: a null request");
                requireOneSample(b.options());
                String text = b.messages() != null ? render(b.messages(), b.options())
                        : b.options().chat() ? render(List.of(Message.user(b.prompt())), b.options()) : b.prompt();
                PreparedPrompt r = request(text, b.options());
                pages[prepared.size()] = KvPagePool.pagesFor(r.capacity());
                prepared.add(r);
                longestPrompt = Math.max(longestPrompt, r.promptTokens());
            }
            int width = Math.min(batchSize, prepared.size());
            try (KvPagePool pool = newPagePool(mostPagesAtOnce(pages, width));
                 Session session = qwen2.newBatchSession(width, longestPrompt)) {
                return decodeAll(prepared, pool, new BatchEngine(session, config.vocabSize()));
            }
        });
    }

    /** The pages the {@code width} largest requests hold together: the most a batch that wide holds at once. */
    private static int mostPagesAtOnce(int[] pages, int width) {
        int[] sorted = pages.clone();
        Arrays.sort(sorted);
        int sum = 0;
        for (int i = sorted.length - width; i < sorted.length; i++) {
            sum += sorted[i];
        }
        return sum;
    }

    /**
     * Runs {@code requests} through {@code engine} in order, each admitted when the batch has room for it; a finished
     * sequence has given its pages back (the engine retires it) before the next one takes pages.
     */
    private List<GenerationResult> decodeAll(List<PreparedPrompt> requests, KvPagePool pool, BatchEngine engine) {
        List<Sequence> sequences = new ArrayList<>(requests.size());
        try {
            while (true) {
                while (engine.size() < engine.capacity() && sequences.size() < requests.size()) {
                    PreparedPrompt r = requests.get(sequences.size());
                    Sequence s = sequence(r, pool.newCache(r.capacity()), r.options().seed(), t -> { });
                    sequences.add(s);
                    engine.admit(s);
                }
                if (engine.size() == 0) {
                    return sequences.stream().map(Sequence::result).toList();
                }
                engine.step(() -> closed);
            }
        } finally {
            sequences.forEach(Sequence::release);
        }
    }

    /**
     * Self-consistency: draws {@code options.samples()} samples of the reply to {@code prompt}, all decoded together
     * in one batch after one prefill of the prompt (sample i samples with seed {@code seed + i}), extracts each
     * sample's answer with the options' {@link AnswerExtractor}, and votes. The same seed gives the same result. The
     * samples share the prompt's KV pages (each copies only the prompt's last, partial page before writing to it) and
     * take further pages as they grow; {@link SelfConsistencyResult#kvCacheBytes()} is the most they held at once.
     *
     * @throws ContextLengthExceededException when prompt tokens + maxTokens exceed the context length
     */
    public SelfConsistencyResult selfConsistency(String prompt, GenerationOptions options) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(options, "options");
        return entered(() -> {
            String text = options.chat() ? render(List.of(Message.user(prompt)), options) : prompt;
            PreparedPrompt r = request(text, options);
            int n = options.samples();
            long seed = options.seed();
            int capacity = r.capacity();
            // The prompt's full pages once, then each sample's own: its copy of the partial page and what it adds.
            int shared = r.promptTokens() / KvCacheLayer.PAGE;
            int pages = shared + n * (KvPagePool.pagesFor(capacity) - shared);
            List<Sequence> samples = new ArrayList<>(n);
            try (KvPagePool pool = newPagePool(pages); Session session = qwen2.newBatchSession(n, r.promptTokens())) {
                BatchEngine engine = new BatchEngine(session, config.vocabSize());
                try {
                    for (int i = 0; i < n; i++) {
                        samples.add(sequence(r, pool.newCache(capacity), seed + i, t -> { }));
                    }
                    engine.admit(samples.toArray(Sequence[]::new));
                    engine.run(() -> closed);
                    List<GenerationResult> results = samples.stream().map(Sequence::result).toList();
                    return SelfConsistencyResult.vote(results, options.answerExtractor(), pool.peakBytes());
                } finally {
                    samples.forEach(Sequence::release);
                }
            }
        });
    }

    /**
     * Continues a conversation: {@code messages} are rendered with the model's chat template plus the generation
     * prompt for the assistant's turn. The options' system prompt, when set, goes first unless the conversation
     * already starts with a system message.
     *
     * @throws ContextLengthExceededException when prompt tokens + maxTokens exceed the context length
     */
    public GenerationResult chat(List<Message> messages, GenerationOptions options, GenerationListener listener) {
        Objects.requireNonNull(messages, "messages");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(listener, "listener");
        requireOneSample(options);
        return run(render(messages, options), options, listener);
    }

    /**
     * Tokenizes {@code prompt} (chat-formatted as {@link #generate(String, GenerationOptions, GenerationListener)}
     * does, or as is when {@code options.chat()} is false) and checks it against the context, for a
     * {@link ContinuousBatch} to admit. {@code options.samples()} is not used: a batch admits as many samples as it
     * is given listeners.
     *
     * @throws ContextLengthExceededException when prompt tokens + maxTokens exceed the context length
     * @throws IllegalArgumentException       when the prompt encodes to no tokens or a sampling value is invalid
     */
    public PreparedPrompt prepare(String prompt, GenerationOptions options) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(options, "options");
        return entered(() -> request(options.chat() ? render(List.of(Message.user(prompt)), options) : prompt, options));
    }

    /**
     * A batch that decodes up to {@code maxSequences} sequences at once, admitting new ones between steps: for a
     * server's continuous batching. {@link #newContinuousBatch(ContinuousBatchOptions)} with its KV page pool sized
     * to memory and the prefix cache on.
     */
    public ContinuousBatch newContinuousBatch(int maxSequences) {
        if (maxSequences < 1) {
            throw new IllegalArgumentException("maxSequences must be >= 1, got " + maxSequences);
        }
        return newContinuousBatch(ContinuousBatchOptions.of(maxSequences));
    }

    /**
     * A batch that decodes up to {@code options.maxSequences()} sequences at once, admitting new ones between steps:
     * for a server's continuous batching. Its KV page pool, sized by {@link #kvPoolPlan}, is allocated now; close the
     * batch to free it. Counts as a running generation until closed (closing the model frees after it).
     *
     * @throws IllegalArgumentException when the pool could not fit in this machine's memory, or holds too few pages
     * @throws ModelClosedException     when the model is closed
     */
    public ContinuousBatch newContinuousBatch(ContinuousBatchOptions options) {
        Objects.requireNonNull(options, "options");
        KvPoolPlan plan = kvPoolPlan(options);
        enter();
        try {
            checkpoint.checkUnchanged();
            return new ContinuousBatch(this, qwen2, newPagePool(plan.pages()), plan, options.prefixCache(),
                    () -> closed);
        } catch (RuntimeException | Error e) {
            exit();
            throw e;
        }
    }

    /**
     * The KV page pool a continuous batch with {@code options} allocates: {@code options.kvMemoryBytes()}, else
     * {@link KvPoolPlan#DEFAULT_FRACTION} of this machine's memory beside the Java heap's maximum and the weights,
     * at most every sequence's full context. Allocates nothing.
     */
    public KvPoolPlan kvPoolPlan(ContinuousBatchOptions options) {
        Objects.requireNonNull(options, "options");
        long pageBytes = KvPoolPlan.pageBytes(config.numHiddenLayers(), config.numKeyValueHeads(), config.headDim(),
                this.options.kvCacheType());
        return KvPoolPlan.of(pageBytes, contextLength, options.maxSequences(), options.kvMemoryBytes(),
                new KvPoolPlan.Memory(physicalMemoryBytes(), Runtime.getRuntime().maxMemory(), weightBytes()));
    }

    /** The model's config.json. */
    public Qwen2Config config() {
        return config;
    }

    /** The model's tokenizer. */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The folder the model was loaded from. */
    public Path folder() {
        return folder;
    }

    /** Positions every session holds: prompt plus generated tokens may not exceed it. */
    public int contextLength() {
        return contextLength;
    }

    /**
     * Bytes of weights one decode step reads: every layer, the final norm and the lm_head (for a tied model the
     * embedding matrix, counted once). The numerator of the decode roofline.
     */
    public long weightBytes() {
        return qwen2.weights().bytesPerToken();
    }

    /**
     * The format the linear maps compute with: {@code int8} when they are int8 (stored so or quantized at load), else
     * the checkpoint's float type ({@code bf16}, {@code f16}, {@code f32}).
     */
    public String weightsFormat() {
        return qwen2.weights().format();
    }

    /**
     * Wall-clock milliseconds that quantizing float weights at load took ({@code ModelOptions.quantize}); 0 when
     * nothing was quantized, e.g. a folder already stored as int8. Part of, not added to, the load time.
     */
    public long quantizeMillis() {
        return qwen2.weights().quantizeMillis();
    }

    /** Bytes of the KV cache of one session at the configured context length. */
    public long kvCacheBytes() {
        return kvCacheBytes(config, contextLength, options.kvCacheType());
    }

    /** Bytes of one session's KV cache of {@code positions} positions, in whole pages as it is allocated. */
    private static long kvCacheBytes(Qwen2Config config, int positions, DType kvCacheType) {
        return KvCache.bytes(config.numHiddenLayers(), config.numKeyValueHeads(), positions, config.headDim(),
                kvCacheType);
    }

    /**
     * Which kernels compute this model, e.g. {@code cpu-vector512} (Vector API, 512-bit), {@code cpu-vector256} or
     * {@code cpu-scalar} (no Vector API).
     */
    public String backendName() {
        return split.describe();
    }

    /** The options the model was loaded with. */
    public ModelOptions options() {
        return options;
    }

    /**
     * Frees the sessions, the worker threads and the mapped files; later calls to generate or chat throw
     * {@link IllegalStateException}. Generations still running end at their next token with an
     * {@code IllegalStateException} ("model closed"), and the last of them frees the resources on its way out.
     */
    @Override
    public void close() {
        closed = true;
        if (running.get() == 0) {
            free();
        }
    }

    private void free() {
        if (!freed.compareAndSet(false, true)) {
            return;
        }
        for (Session s; (s = idleSessions.poll()) != null; ) {
            s.close();
        }
        split.backends().forEach(Backend::close);
        checkpoint.close();
    }

    /**
     * Decode speed at depth, for benchmarks: prefills {@code context} once, then {@code runs} times decodes
     * {@code tokens} greedy tokens after it, each run from the same cached context (the decoded tokens are
     * dropped in between). Nothing is sampled or streamed.
     */
    public DepthSpeed decodeSpeedAfter(int[] context, int tokens, int runs) {
        if (context.length == 0 || tokens < 1 || runs < 1) {
            throw new IllegalArgumentException("need a context, tokens >= 1 and runs >= 1");
        }
        if ((long) context.length + tokens > contextLength) {
            throw new ContextLengthExceededException(context.length, tokens, contextLength);
        }
        enter();
        try {
            checkpoint.checkUnchanged();
            Session session = acquireSession();
            try {
                long start = System.nanoTime();
                float[] logits = session.prefill(context, context.length);
                double prefill = context.length / Math.max((System.nanoTime() - start) / 1e9, 1e-9);
                int first = argmax(logits);
                double[] decode = new double[runs];
                for (int run = 0; run < runs; run++) {
                    session.rewind(context.length);
                    int next = first;
                    long begin = System.nanoTime();
                    for (int i = 0; i < tokens; i++) {
                        next = argmax(session.decode(next));
                    }
                    decode[run] = tokens / Math.max((System.nanoTime() - begin) / 1e9, 1e-9);
                }
                return new DepthSpeed(context.length, prefill, decode);
            } finally {
                releaseSession(session);
            }
        } finally {
            exit();
        }
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Registers a generation; after close() none may start. */
    void enter() {
        running.incrementAndGet();
        if (closed) {
            exit();
            throw new ModelClosedException("model is closed");
        }
    }

    void exit() {
        if (running.decrementAndGet() == 0 && closed) {
            free();
        }
    }

    // --- generation -------------------------------------------------------------------------------------------

    private String render(List<Message> messages, GenerationOptions options) {
        List<Map<String, Object>> maps = new ArrayList<>(messages.size() + 1);
        String systemPrompt = options.systemPrompt();
        boolean startsWithSystem = !messages.isEmpty() && "system".equals(messages.getFirst().role());
        if (systemPrompt != null && !startsWithSystem) {
            maps.add(Message.system(systemPrompt).toTemplateMap());
        }
        for (Message m : messages) {
            maps.add(m.toTemplateMap());
        }
        return chatTemplate.render(maps, null, true, null);
    }

    /** A sequence of prompt {@code r} in {@code cache} (which it releases when done), sampling with {@code seed}. */
    Sequence sequence(PreparedPrompt r, KvCache cache, long seed, GenerationListener listener) {
        Sampler sampler = new Sampler(r.options.samplingParams(generationDefaults), seed, config.vocabSize());
        int top = r.options.topLogprobs();
        return new Sequence(r.tokens, r.maxTokens, cache, sampler, r.stopIds, tokenizer.streamingDecoder(true),
                new StopStringMatcher(r.options.stopStrings()), r.thinking, listener,
                top < 0 ? null : new LogprobsCollector(tokenizer, config.vocabSize(), top));
    }

    private PreparedPrompt request(String text, GenerationOptions options) {
        int[] prompt = tokenizer.encode(text);
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt: encodes to no tokens; give at least one character");
        }
        int maxTokens = options.maxTokens(prompt.length, contextLength);
        if ((long) prompt.length + maxTokens > contextLength) {
            throw new ContextLengthExceededException(prompt.length, maxTokens, contextLength);
        }
        options.samplingParams(generationDefaults); // a bad value from generation_config.json fails before any work
        ReasoningFormat format = options.reasoningFormat() != null ? options.reasoningFormat()
                : ReasoningFormat.detect(chatTemplate.source(), text);
        return new PreparedPrompt(this, prompt, maxTokens, options,
                options.stopTokenIds(generationDefaults, config.eosTokenIds()),
                ThinkingControl.of(format, text, options, tokenizer));
    }

    private GenerationResult run(String text, GenerationOptions options, GenerationListener listener) {
        return entered(() -> {
            PreparedPrompt r = request(text, options);
            Session session = acquireSession();
            try {
                Sequence s = sequence(r, session.cache, options.seed(), listener);
                BatchEngine engine = new BatchEngine(session, config.vocabSize());
                engine.admit(s);
                engine.run(() -> closed);
                return s.result();
            } finally {
                releaseSession(session);
            }
        });
    }

    /** Runs {@code generation} registered as running, after checking that the weights files are unchanged. */
    private <T> T entered(Supplier<T> generation) {
        enter();
        try {
            checkpoint.checkUnchanged();
            return generation.get();
        } finally {
            exit();
        }
    }

    private static void requireOneSample(GenerationOptions options) {
        if (options.samples() != 1) {
            throw new IllegalArgumentException("samples: " + options.samples()
                    + " samples are drawn by Model.selfConsistency, not by generate or chat");
        }
    }

    KvPagePool newPagePool(int pages) {
        return new KvPagePool(split, config.numHiddenLayers(), config.numKeyValueHeads(), config.headDim(),
                options.kvCacheType(), pages);
    }

    // --- sessions ---------------------------------------------------------------------------------------------

    /** The forward pass, for tests of the batch sessions. */
    Qwen2 qwen2() {
        return qwen2;
    }

    /** A session with an empty cache, from the pool or new. */
    Session acquireSession() {
        Session s = idleSessions.poll();
        if (s == null) {
            s = qwen2.newSession(contextLength, options.kvCacheType());
        }
        s.reset();
        return s;
    }

    /** Returns a session to the pool (or frees it when the model was closed meanwhile). */
    void releaseSession(Session s) {
        if (closed) {
            s.close();
        } else {
            idleSessions.add(s);
        }
    }
}
