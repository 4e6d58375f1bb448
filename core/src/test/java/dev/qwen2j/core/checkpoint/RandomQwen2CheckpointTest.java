package dev.qwen2j.core.checkpoint;

import dev.qwen2j.core.config.GenerationDefaults;
import dev.qwen2j.core.config.Qwen2Config;
import dev.qwen2j.core.safetensors.Checkpoint;
import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.core.safetensors.MappedTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RandomQwen2CheckpointTest {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    private static RandomQwen2Checkpoint.Builder small() {
        return RandomQwen2Checkpoint.builder().hiddenSize(32).intermediateSize(48).layers(2).heads(4).kvHeads(2)
                .vocabSize(300);
    }

    private static float element(MappedTensor t, long i) {
        return switch (t.dtype()) {
            case F32 -> t.data().get(F32, i * 4);
            case BF16 -> Float.intBitsToFloat(t.data().get(I16, i * 2) << 16);
            case F16 -> Float.float16ToFloat(t.data().get(I16, i * 2));
            default -> throw new AssertionError(t.dtype());
        };
    }

    @Test
    void writesHuggingFaceLayout() throws IOException {
        Path folder = small().write(dir.resolve("m"));
        Qwen2Config config = Qwen2Config.load(folder);
        assertEquals(small().config().toString(), config.toString());
        assertTrue(Files.exists(folder.resolve("tokenizer.json")));
        assertTrue(Files.exists(folder.resolve("tokenizer_config.json")));
        assertArrayEquals(new int[] {151645, 151643}, GenerationDefaults.load(folder).eosTokenIds());
        try (Checkpoint checkpoint = Checkpoint.open(folder)) {
            assertArrayEquals(new long[] {300, 32}, checkpoint.tensor("model.embed_tokens.weight").shape());
            assertArrayEquals(new long[] {32, 32}, checkpoint.tensor("model.layers.1.self_attn.q_proj.weight").shape());
            assertArrayEquals(new long[] {16, 32}, checkpoint.tensor("model.layers.1.self_attn.k_proj.weight").shape());
            assertArrayEquals(new long[] {16}, checkpoint.tensor("model.layers.0.self_attn.v_proj.bias").shape());
            assertArrayEquals(new long[] {32, 32}, checkpoint.tensor("model.layers.0.self_attn.o_proj.weight").shape());
            assertArrayEquals(new long[] {48, 32}, checkpoint.tensor("model.layers.0.mlp.up_proj.weight").shape());
            assertArrayEquals(new long[] {32, 48}, checkpoint.tensor("model.layers.0.mlp.down_proj.weight").shape());
            assertArrayEquals(new long[] {32}, checkpoint.tensor("model.norm.weight").shape());
            assertTrue(checkpoint.find("lm_head.weight").isEmpty(), "tied: no lm_head");
            assertEquals(1 + 2 * 12 + 1, checkpoint.tensors().size(), "embedding, 12 per layer, final norm");
            for (MappedTensor t : checkpoint.tensors()) {
                assertEquals(DType.BF16, t.dtype());
            }
        }
    }

    @Test
    void valuesLookLikeTheRequestedDistribution() throws IOException {
        Path folder = small().dtype(DType.F32).write(dir.resolve("m"));
        try (Checkpoint checkpoint = Checkpoint.open(folder)) {
            MappedTensor embed = checkpoint.tensor("model.embed_tokens.weight");
            double sum = 0, sumSquares = 0;
            long n = embed.elementCount();
            Set<Float> distinct = new HashSet<>();
            for (long i = 0; i < n; i++) {
                float v = element(embed, i);
                sum += v;
                sumSquares += v * v;
                distinct.add(v);
            }
            double mean = sum / n;
            double std = Math.sqrt(sumSquares / n - mean * mean);
            assertEquals(0, mean, 0.002);
            assertEquals(0.02, std, 0.002);
            assertTrue(distinct.size() > n / 2, "values are not repeated chunk to chunk");
            MappedTensor norm = checkpoint.tensor("model.layers.0.input_layernorm.weight");
            for (long i = 0; i < norm.elementCount(); i++) {
                assertEquals(1.0, element(norm, i), 0.15);
            }
        }
    }

    @Test
    void untiedShardedF16() throws IOException {
        Path folder = small().tiedEmbeddings(false).dtype(DType.F16).shards(3).write(dir.resolve("m"));
        assertFalse(Files.exists(folder.resolve(Checkpoint.SINGLE_FILE)));
        assertTrue(Files.exists(folder.resolve(Checkpoint.INDEX_FILE)));
        for (int s = 1; s <= 3; s++) {
            assertTrue(Files.exists(folder.resolve("model-0000" + s + "-of-00003.safetensors")));
        }
        assertFalse(Qwen2Config.load(folder).tieWordEmbeddings());
        try (Checkpoint checkpoint = Checkpoint.open(folder)) {
            MappedTensor head = checkpoint.tensor("lm_head.weight");
            assertEquals(DType.F16, head.dtype());
            assertEquals(3, checkpoint.tensors().stream().map(MappedTensor::file).distinct().count());
            assertEquals(0, element(head, 7), 0.2);
        }
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() throws IOException {
        Path a = small().seed(7).write(dir.resolve("a"));
        Path b = small().seed(7).write(dir.resolve("b"));
        Path c = small().seed(8).write(dir.resolve("c"));
        byte[] fileA = Files.readAllBytes(a.resolve(Checkpoint.SINGLE_FILE));
        assertArrayEquals(fileA, Files.readAllBytes(b.resolve(Checkpoint.SINGLE_FILE)));
        assertFalse(java.util.Arrays.equals(fileA, Files.readAllBytes(c.resolve(Checkpoint.SINGLE_FILE))));
    }

    @Test
    void rewritingAsSingleFileRemovesTheOldIndex() throws IOException {
        Path folder = small().shards(2).write(dir.resolve("m"));
        small().write(folder);
        assertFalse(Files.exists(folder.resolve(Checkpoint.INDEX_FILE)));
        try (Checkpoint checkpoint = Checkpoint.open(folder)) {
            assertEquals(folder.resolve(Checkpoint.SINGLE_FILE),
                    checkpoint.tensor("model.norm.weight").file());
        }
    }

    @Test
    void refusesInvalidSettings() {
        assertThrows(IllegalArgumentException.class, () -> small().heads(5).write(dir.resolve("x")));
        assertThrows(IllegalArgumentException.class, () -> small().kvHeads(3).write(dir.resolve("x")));
        assertThrows(IllegalArgumentException.class, () -> small().dtype(DType.I8).write(dir.resolve("x")));
        assertThrows(IllegalArgumentException.class, () -> small().shards(0).write(dir.resolve("x")));
        assertFalse(Files.exists(dir.resolve("x")), "nothing written for invalid settings");
    }

    @Test
    void qwen25PresetHasTheRealShape() {
        Qwen2Config c = RandomQwen2Checkpoint.qwen25_05b().config();
        assertEquals(List.of(896, 4864, 24, 14, 2, 64, 151936),
                List.of(c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(), c.numAttentionHeads(),
                        c.numKeyValueHeads(), c.headDim(), c.vocabSize()));
        assertTrue(c.tieWordEmbeddings());
        assertEquals("bfloat16", c.torchDtype());
    }

    @Test
    void bundledTokenizerIsCopied() throws IOException {
        BundledTokenizer.copyTo(dir.resolve("tok"));
        String json = Files.readString(dir.resolve("tok/tokenizer.json"));
        assertTrue(json.startsWith("{") && json.contains("<|im_end|>"));
        assertTrue(Files.readString(dir.resolve("tok/tokenizer_config.json")).contains("chat_template"));
    }
}
