package dev.qwen2j.core.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Sampling defaults from {@code generation_config.json}; a null field was not set there.
 *
 * @param eosTokenIds the ids that end a generation (one or several; empty when unset)
 */
public record GenerationDefaults(Double temperature, Double topP, Integer topK, Double repetitionPenalty,
                                 Boolean doSample, int[] eosTokenIds) {

    /** File name inside a model folder. */
    public static final String FILE = "generation_config.json";

    public GenerationDefaults {
        eosTokenIds = eosTokenIds.clone();
    }

    /** Nothing set. */
    public static GenerationDefaults none() {
        return new GenerationDefaults(null, null, null, null, null, new int[0]);
    }

    /** Reads {@code folder/generation_config.json}; a missing file gives {@link #none()}. */
    public static GenerationDefaults load(Path folder) throws IOException {
        Path file = folder.resolve(FILE);
        if (Files.notExists(file)) { // an unreadable folder must fail on the read, not pass as "no file"
            return none();
        }
        JsonFields json = JsonFields.read(file);
        return new GenerationDefaults(json.nullableDouble("temperature"), json.nullableDouble("top_p"),
                json.nullableInt("top_k"), json.nullableDouble("repetition_penalty"),
                json.nullableBoolean("do_sample"), json.intOrIntList("eos_token_id"));
    }

    @Override
    public int[] eosTokenIds() {
        return eosTokenIds.clone();
    }
}
