package dev.qwen2j.core.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Qwen2ConfigTest {

    /** Qwen2.5-0.5B-Instruct's config.json, verbatim. */
    static final String QWEN25_05B = """
            {
              "architectures": ["Qwen2ForCausalLM"],
              "attention_dropout": 0.0,
              "bos_token_id": 151643,
              "eos_token_id": 151645,
              "hidden_act": "silu",
              "hidden_size": 896,
              "initializer_range": 0.02,
              "intermediate_size": 4864,
              "max_position_embeddings": 32768,
              "max_window_layers": 21,
              "model_type": "qwen2",
              "num_attention_heads": 14,
              "num_hidden_layers": 24,
              "num_key_value_heads": 2,
              "rms_norm_eps": 1e-06,
              "rope_theta": 1000000.0,
              "sliding_window": 32768,
              "tie_word_embeddings": true,
              "torch_dtype": "bfloat16",
              "transformers_version": "4.43.1",
              "use_cache": true,
              "use_sliding_window": false,
              "vocab_size": 151936
            }""";

    @TempDir
    Path dir;

    private Qwen2Config load(String json) throws IOException {
        Files.writeString(dir.resolve("config.json"), json);
        return Qwen2Config.load(dir);
    }

    private ConfigException rejects(String json, String... expected) throws IOException {
        Files.writeString(dir.resolve("config.json"), json);
        ConfigException e = assertThrows(ConfigException.class, () -> Qwen2Config.load(dir));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        for (String s : expected) {
            assertTrue(e.getMessage().contains(s), "'" + s + "' in: " + e.getMessage());
        }
        return e;
    }

    private static String with(String field, String value) {
        return QWEN25_05B.replaceFirst("\"" + field + "\": [^,\\n]+", "\"" + field + "\": " + value);
    }

    @Test
    void readsQwen25Config() throws IOException {
        Qwen2Config c = load(QWEN25_05B);
        assertEquals(896, c.hiddenSize());
        assertEquals(4864, c.intermediateSize());
        assertEquals(24, c.numHiddenLayers());
        assertEquals(14, c.numAttentionHeads());
        assertEquals(2, c.numKeyValueHeads());
        assertEquals(64, c.headDim());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(1_000_000.0, c.ropeTheta());
        assertNull(c.ropeScaling());
        assertEquals(32768, c.maxPositionEmbeddings());
        assertFalse(c.useSlidingWindow());
        assertEquals(32768, c.slidingWindow());
        assertEquals(21, c.maxWindowLayers());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(151936, c.vocabSize());
        assertEquals(151643, c.bosTokenId());
        assertArrayEquals(new int[] {151645}, c.eosTokenIds());
        assertEquals("bfloat16", c.torchDtype());
        assertEquals(896, c.queryDim());
        assertEquals(128, c.kvDim());
    }

    @Test
    void defaultsFollowTransformers() throws IOException {
        Qwen2Config c = load("""
                {"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "vocab_size": 100}""");
        assertEquals(4, c.numKeyValueHeads(), "num_key_value_heads defaults to the head count");
        assertEquals(16, c.headDim());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(32768, c.maxPositionEmbeddings());
        assertFalse(c.tieWordEmbeddings());
        assertNull(c.bosTokenId());
        assertEquals(0, c.eosTokenIds().length);
        assertNull(c.torchDtype());
    }

    @Test
    void explicitHeadDimAndEosList() throws IOException {
        Qwen2Config c = load(with("eos_token_id", "[151645, 151643]").replace("\"hidden_act\"", "\"head_dim\": 128, \"hidden_act\""));
        assertEquals(128, c.headDim());
        assertArrayEquals(new int[] {151645, 151643}, c.eosTokenIds());
        assertEquals(14 * 128, c.queryDim());
    }

    @Test
    void ropeScalingTypes() throws IOException {
        Qwen2Config yarn = load(with("rope_theta", "1000000.0, \"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4.0, "
                + "\"original_max_position_embeddings\": 32768}"));
        assertEquals(new RopeScaling("yarn", 4.0, 32768, null, null, null, null, null), yarn.ropeScaling());
        Qwen2Config linear = load(with("rope_theta", "1.0e6, \"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 2, \"beta_fast\": 16}"));
        assertEquals("linear", linear.ropeScaling().type());
        assertEquals(32768, linear.ropeScaling().originalMaxPositionEmbeddings(), "defaults to max_position_embeddings");
        assertEquals(16.0, linear.ropeScaling().betaFast());
        assertNull(load(with("rope_theta", "1.0e6, \"rope_scaling\": {\"rope_type\": \"default\"}")).ropeScaling());
        assertNull(load(with("rope_theta", "1.0e6, \"rope_scaling\": null")).ropeScaling());
        rejects(with("rope_theta", "1.0e6, \"rope_scaling\": {\"type\": \"longrope\", \"factor\": 2}"),
                "rope_scaling.type", "longrope", "yarn");
        rejects(with("rope_theta", "1.0e6, \"rope_scaling\": {\"type\": \"dynamic\"}"), "rope_scaling.factor");
        rejects(with("rope_theta", "1.0e6, \"rope_scaling\": {\"type\": \"dynamic\", \"factor\": -1}"), "rope_scaling.factor");
    }

    @Test
    void refusesOtherModelTypes() throws IOException {
        rejects(with("model_type", "\"llama\""), "model_type", "'llama'", "qwen2");
        rejects(QWEN25_05B.replace("\"model_type\": \"qwen2\",", ""), "model_type", "missing", "qwen2");
    }

    @Test
    void refusesActivationsOtherThanSilu() throws IOException {
        rejects(with("hidden_act", "\"gelu\""), "hidden_act", "'gelu'", "silu");
        rejects(with("hidden_act", "3"), "hidden_act", "string");
        assertEquals(896, load(QWEN25_05B.replace("\"hidden_act\": \"silu\",", "")).hiddenSize(), "absent = silu");
    }

    @Test
    void anUnreadableFolderIsPermissionDeniedNotMissing() throws IOException {
        // root reads every folder whatever its mode, so this can only be seen as another user
        org.junit.jupiter.api.Assumptions.assumeFalse("root".equals(System.getProperty("user.name")),
                "running as root: permissions are not enforced");
        load(QWEN25_05B);
        java.util.Set<java.nio.file.attribute.PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
        Files.setPosixFilePermissions(dir, java.util.Set.of());
        try {
            assertThrows(java.nio.file.AccessDeniedException.class, () -> Qwen2Config.load(dir));
        } finally {
            Files.setPosixFilePermissions(dir, mode);
        }
    }

    @Test
    void refusesHeadsThatDoNotDivide() throws IOException {
        rejects(with("num_attention_heads", "15"), "num_attention_heads", "hidden_size 896");
        rejects(with("num_key_value_heads", "3"), "num_key_value_heads", "num_attention_heads 14");
    }

    @Test
    void refusesBadFields() throws IOException {
        rejects(QWEN25_05B.replace("\"hidden_size\": 896,", ""), "hidden_size", "missing");
        rejects(with("hidden_size", "\"896\""), "hidden_size", "integer");
        rejects(with("num_hidden_layers", "0"), "num_hidden_layers", "positive");
        rejects(with("eos_token_id", "\"</s>\""), "eos_token_id");
        rejects(with("eos_token_id", "[1, \"x\"]"), "eos_token_id");
        rejects(with("tie_word_embeddings", "1"), "tie_word_embeddings");
        rejects(with("rms_norm_eps", "0"), "rms_norm_eps");
        rejects(with("use_sliding_window", "true").replace("\"sliding_window\": 32768", "\"sliding_window\": 0"),
                "sliding_window");
        rejects("{\"model_type\": ", "not valid JSON");
        rejects("[]", "not a JSON object");
        rejects("{\"model_type\": \"qwen2\", \"model_type\": \"qwen2\"}", "Duplicate");
    }

    @Test
    void missingFileNamesTheFolder() {
        ConfigException e = assertThrows(ConfigException.class, () -> Qwen2Config.load(dir));
        assertTrue(e.getMessage().contains(dir.resolve("config.json").toString()), e.getMessage());
    }
}
