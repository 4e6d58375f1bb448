package dev.qwen2j.quant;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwen2j.core.safetensors.Checkpoint;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.core.safetensors.MappedTensor;
import dev.qwen2j.core.safetensors.SafetensorsWriter;
import dev.qwen2j.core.safetensors.SafetensorsWriter.TensorData;
import dev.qwen2j.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Writes a float model folder quantized to int8 in the compressed-tensors layout: every Linear weight
 * ({@code *_proj.weight}, and {@code lm_head.weight} when {@link Quantization#lmHead()}) becomes {@code <module>.weight}
 * (I8, {@code [out, in]}) and {@code <module>.weight_scale} ({@code [out, in / group]}, {@code [out, 1]} per channel, in
 * the weights' own float dtype, as compressed-tensors stores them); embeddings, norms and biases are copied. A tied
 * lm_head that is quantized is written untied ({@code tie_word_embeddings: false}, an int8 {@code lm_head.weight}
 * beside the float embedding). config.json gains the {@code quantization_config}; tokenizer, generation config and
 * every other file are copied.
 *
 * <p>Atomic: everything goes to a hidden temporary folder beside the target, renamed to it only when complete, so a
 * crash or a full disk leaves no half-written model folder (the temporary one is deleted on failure).
 */
public final class Int8FolderWriter {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String LM_HEAD = "lm_head";

    private Int8FolderWriter() {
    }

    /** What was written: how many matrices were quantized, and the weight bytes before and after. */
    public record Result(int quantizedMatrices, long sourceBytes, long writtenBytes) {
    }

    /**
     * Quantizes the float model in {@code source} into the new folder {@code target} on {@code threads} threads.
     *
     * @throws FileAlreadyExistsException when {@code target} exists
     * @throws IOException                when the source is not a float model qwen2j can read, or writing fails
     */
    public static Result write(Path source, Path target, Quantization quantization, int threads,
                               QuantizationProgress progress) throws IOException {
        if (Files.exists(target)) {
            throw new FileAlreadyExistsException(target.toString(), null, "the output folder exists; choose a new one");
        }
        Path configFile = source.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            throw new IOException(configFile + ": missing (is " + source + " a Hugging Face model folder?)");
        }
        ObjectNode config = (ObjectNode) JSON.readTree(configFile.toFile());
        if (config.hasNonNull(CompressedTensors.FIELD)) {
            throw new IOException(configFile + ": " + CompressedTensors.FIELD + ": the model is quantized already");
        }
        Path parent = target.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path temp = Files.createTempDirectory(parent, "." + target.getFileName() + ".tmp-");
        try (Checkpoint checkpoint = Checkpoint.open(source)) {
            boolean tied = config.path("tie_word_embeddings").asBoolean(false);
            List<TensorData> tensors = new ArrayList<>();
            Quantizing jobs = new Quantizing(threads, progress);
            long sourceBytes = 0;
            for (MappedTensor t : checkpoint.tensors()) {
                sourceBytes += t.byteSize();
                if (isLinearWeight(t.name(), quantization)) {
                    addQuantized(t, t.name().substring(0, t.name().length() - ".weight".length()), quantization, tensors, jobs);
                } else {
                    tensors.add(TensorData.of(t));
                }
            }
            if (tied && quantization.lmHead()) {
                MappedTensor embed = checkpoint.tensor("model.embed_tokens.weight");
                addQuantized(embed, LM_HEAD, quantization, tensors, jobs);
                config.put("tie_word_embeddings", false);
            }
            SafetensorsWriter.write(temp.resolve(Checkpoint.SINGLE_FILE), tensors);
            List<String> ignore = quantization.lmHead() ? List.of() : List.of(LM_HEAD);
            config.set(CompressedTensors.FIELD, CompressedTensors.toJson(quantization, ignore));
            JSON.writeValue(temp.resolve("config.json").toFile(), config);
            copyOtherFiles(source, temp);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            long written = tensors.stream().mapToLong(TensorData::byteSize).sum();
            return new Result(jobs.count, sourceBytes, written);
        } catch (IOException | RuntimeException | Error e) {
            deleteRecursively(temp);
            throw e;
        }
    }

    private static boolean isLinearWeight(String name, Quantization quantization) {
        return name.endsWith("_proj.weight") || quantization.lmHead() && name.equals(LM_HEAD + ".weight");
    }

    /**
     * Progress over all matrices of a folder. Each is quantized straight into the output file's mapping when the
     * writer reaches it (on every thread), so the int8 copy of the model never needs to fit in memory; its scales,
     * which the file stores first, are computed by a separate pass of the same formula.
     */
    private static final class Quantizing {
        final int threads;
        final QuantizationProgress progress;
        int count;
        long total;
        long done;

        Quantizing(int threads, QuantizationProgress progress) {
            this.threads = threads;
            this.progress = progress;
        }

        void run(Tensor source, Int8Matrix target, DType scaleType) {
            QuantizeJobs.run(List.of(new QuantizeJobs.Job(source, target, scaleType)), threads,
                    (d, t) -> progress.update(done + d, total));
            done += (long) source.rows() * source.cols();
        }
    }

    /** Adds the int8 weight and scale tensors of {@code t} under {@code module}, quantized as the file is written. */
    private static void addQuantized(MappedTensor t, String module, Quantization quantization,
                                     List<TensorData> tensors, Quantizing jobs) throws IOException {
        if (t.rank() != 2 || t.dtype() != DType.BF16 && t.dtype() != DType.F16 && t.dtype() != DType.F32) {
            throw new IOException(t.file() + ": tensor " + t.name() + " is " + t + "; qwen2j quantizes 2-D F32, BF16"
                    + " or F16 weights");
        }
        int rows = Math.toIntExact(t.dim(0));
        int cols = Math.toIntExact(t.dim(1));
        int group = quantization.groupSizeFor(cols);
        if (cols % group != 0) {
            throw new IOException(t.file() + ": tensor " + t.name() + ": group size " + group
                    + " does not divide its rows of " + cols + "; choose another --group-size or channel");
        }
        Tensor source = new Tensor(t.name(), t.data(), t.dtype(), rows, cols);
        DType scaleType = t.dtype(); // compressed-tensors stores scales in the weights' dtype
        jobs.count++;
        jobs.total += (long) rows * cols;
        tensors.add(new TensorData(module + ".weight", DType.I8, new long[]{rows, cols}, target -> jobs.run(source,
                new Int8Matrix(module + ".weight", target, new float[rows * (cols / group)], rows, cols, group), scaleType)));
        tensors.add(new TensorData(module + ".weight_scale", scaleType, new long[]{rows, cols / group},
                target -> writeScales(Int8Quantizer.scales(source, group, scaleType), scaleType, target)));
    }

    private static void writeScales(float[] scales, DType dtype, MemorySegment target) {
        for (int i = 0; i < scales.length; i++) {
            switch (dtype) {
                case F32 -> target.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4L * i, scales[i]);
                case BF16 -> target.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2L * i,
                        (short) (Float.floatToRawIntBits(scales[i]) >>> 16)); // already exact bf16 values
                case F16 -> target.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2L * i, Float.floatToFloat16(scales[i]));
                default -> throw new IllegalStateException(dtype.name());
            }
        }
    }

    /** Tokenizer, generation config, chat template, licence...: every regular file but the weights and config.json. */
    private static void copyOtherFiles(Path source, Path target) throws IOException {
        try (Stream<Path> files = Files.list(source)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                boolean weights = name.endsWith(".safetensors") || name.equals(Checkpoint.INDEX_FILE);
                if (Files.isRegularFile(file) && !weights && !name.equals("config.json")) {
                    Files.copy(file, target.resolve(name));
                }
            }
        }
    }

    private static void deleteRecursively(Path folder) throws IOException {
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(folder)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
