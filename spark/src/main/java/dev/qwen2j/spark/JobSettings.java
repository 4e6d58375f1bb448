package dev.qwen2j.spark;

import dev.qwen2j.model.GenerationOptions;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * What every task needs to know, shipped to the executors with each task (small and serializable: the model is
 * a path, loaded once per executor JVM by {@link ExecutorModels}, never shipped).
 *
 * @param modelPath      model folder, readable at this path from every executor
 * @param output         output folder (a Hadoop path: local, HDFS, ...)
 * @param samples        samples per problem (k)
 * @param temperature    sampling temperature, or null for the model's generation_config.json
 * @param topP           nucleus sampling, or null for the model's default
 * @param topK           top-k, or null for the model's default
 * @param maxTokens      most tokens per sample
 * @param thinkingBudget most tokens of reasoning, or 0 for no limit: the model's thinking budget closes the thought
 *                       after that many tokens and the sample goes on to its answer (within maxTokens)
 * @param seed           base seed; each sample's seed derives from it, the problem id and the sample index
 * @param keepCorrectOnly write only the samples graded correct (rejection sampling); the summary counts them all
 * @param format         {@code parquet} or {@code jsonl}
 * @param modelThreads   worker threads of each executor's model (0: the model's default)
 * @param batchSize      samples one task decodes together in the model's batch engine (continuous batching); a
 *                       sample is the same on any batch size, so it is not part of the {@link #fingerprint}
 */
public record JobSettings(String modelPath, String output, int samples, Double temperature, Double topP, Integer topK,
                          int maxTokens, int thinkingBudget, long seed, boolean keepCorrectOnly, String format,
                          int modelThreads, int batchSize) implements Serializable {

    /** The options of sample {@code sample} of problem {@code id}. */
    public GenerationOptions generationOptions(String id, int sample) {
        GenerationOptions.Builder b = GenerationOptions.builder().maxTokens(maxTokens).seed(sampleSeed(id, sample));
        if (thinkingBudget > 0) {
            b.maxThinkingTokens(thinkingBudget);
        }
        if (temperature != null) {
            b.temperature(temperature);
        }
        if (topP != null) {
            b.topP(topP);
        }
        if (topK != null) {
            b.topK(topK);
        }
        return b.build();
    }

    /** The seed of one sample: the first 8 bytes of SHA-256(seed, id, sample), the same on any partitioning. */
    public long sampleSeed(String id, int sample) {
        MessageDigest sha = sha256();
        sha.update(ByteBuffer.allocate(12).putLong(seed).putInt(sample).array());
        sha.update(id.getBytes(StandardCharsets.UTF_8));
        return ByteBuffer.wrap(sha.digest()).getLong();
    }

    /** Names the settings that change what a sample is, so a partition's file name changes with them. */
    String fingerprint() {
        return String.join("|", modelPath, String.valueOf(samples), String.valueOf(temperature), String.valueOf(topP),
                String.valueOf(topK), String.valueOf(maxTokens), String.valueOf(thinkingBudget), String.valueOf(seed),
                String.valueOf(keepCorrectOnly), format);
    }

    /** Hex SHA-256 of the settings and the problem ids of one partition: the partition's file name. */
    String partitionKey(Iterable<String> ids) {
        MessageDigest sha = sha256();
        sha.update(fingerprint().getBytes(StandardCharsets.UTF_8));
        for (String id : ids) {
            sha.update((byte) 0);
            sha.update(id.getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(sha.digest()).substring(0, 24);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
