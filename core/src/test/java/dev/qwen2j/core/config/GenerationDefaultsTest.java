package dev.qwen2j.core.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenerationDefaultsTest {

    @TempDir
    Path dir;

    @Test
    void readsQwen25InstructDefaults() throws IOException {
        Files.writeString(dir.resolve("generation_config.json"), """
                {"bos_token_id": 151643, "pad_token_id": 151643, "do_sample": true,
                 "eos_token_id": [151645, 151643], "repetition_penalty": 1.1, "temperature": 0.7,
                 "top_p": 0.8, "top_k": 20, "transformers_version": "4.37.0"}""");
        GenerationDefaults d = GenerationDefaults.load(dir);
        assertEquals(0.7, d.temperature());
        assertEquals(0.8, d.topP());
        assertEquals(20, d.topK());
        assertEquals(1.1, d.repetitionPenalty());
        assertEquals(Boolean.TRUE, d.doSample());
        assertArrayEquals(new int[] {151645, 151643}, d.eosTokenIds());
    }

    @Test
    void singleEosAndAbsentFields() throws IOException {
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": 2, \"temperature\": null}");
        GenerationDefaults d = GenerationDefaults.load(dir);
        assertArrayEquals(new int[] {2}, d.eosTokenIds());
        assertNull(d.temperature());
        assertNull(d.topK());
    }

    @Test
    void missingFileMeansNothingSet() throws IOException {
        GenerationDefaults d = GenerationDefaults.load(dir);
        assertNull(d.temperature());
        assertNull(d.topP());
        assertNull(d.topK());
        assertNull(d.repetitionPenalty());
        assertNull(d.doSample());
        assertEquals(0, d.eosTokenIds().length);
    }

    @Test
    void badFieldNamesFileAndField() throws IOException {
        Files.writeString(dir.resolve("generation_config.json"), "{\"top_k\": \"many\"}");
        ConfigException e = assertThrows(ConfigException.class, () -> GenerationDefaults.load(dir));
        assertTrue(e.getMessage().contains("generation_config.json") && e.getMessage().contains("top_k"), e.getMessage());
    }
}
