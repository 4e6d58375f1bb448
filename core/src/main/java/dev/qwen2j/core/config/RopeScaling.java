package dev.qwen2j.core.config;

import java.util.List;

/**
 * The {@code rope_scaling} block of config.json, as transformers reads it.
 *
 * @param type                          {@code linear}, {@code dynamic} or {@code yarn}
 * @param factor                        context extension factor (&gt; 0)
 * @param originalMaxPositionEmbeddings the pre-extension context; config's max_position_embeddings when absent
 * @param betaFast                      YaRN: fast boundary (null = transformers' default, 32)
 * @param betaSlow                      YaRN: slow boundary (null = default, 1)
 * @param mscale                        YaRN: mscale (null = absent)
 * @param mscaleAllDim                  YaRN: mscale_all_dim (null = absent)
 * @param attentionFactor               YaRN: attention_factor (null = computed from factor)
 */
public record RopeScaling(String type, double factor, int originalMaxPositionEmbeddings, Double betaFast,
                          Double betaSlow, Double mscale, Double mscaleAllDim, Double attentionFactor) {

    /** The scaling types qwen2j implements. */
    public static final List<String> SUPPORTED_TYPES = List.of("linear", "dynamic", "yarn");

    /**
     * Reads {@code rope_scaling}; null when absent or of type {@code default} (no scaling).
     * {@code type} may be spelled {@code rope_type} (newer transformers).
     */
    static RopeScaling read(JsonFields config, int maxPositionEmbeddings) throws ConfigException {
        JsonFields scaling = config.object("rope_scaling");
        if (scaling == null) {
            return null;
        }
        String type = scaling.optionalString("rope_type", scaling.optionalString("type", null));
        if (type == null) {
            throw scaling.error("type", "missing");
        }
        if (type.equals("default")) {
            return null;
        }
        if (!SUPPORTED_TYPES.contains(type)) {
            throw scaling.error("type", "'" + type + "' is not supported; supported: " + SUPPORTED_TYPES);
        }
        if (!scaling.has("factor")) {
            throw scaling.error("factor", "missing");
        }
        double factor = scaling.optionalDouble("factor", 1);
        if (!(factor > 0) || Double.isInfinite(factor)) {
            throw scaling.error("factor", "must be a positive number, found " + factor);
        }
        int original = scaling.optionalInt("original_max_position_embeddings", maxPositionEmbeddings);
        if (original <= 0) {
            throw scaling.error("original_max_position_embeddings", "must be positive, found " + original);
        }
        return new RopeScaling(type, factor, original,
                scaling.nullableDouble("beta_fast"), scaling.nullableDouble("beta_slow"),
                scaling.nullableDouble("mscale"), scaling.nullableDouble("mscale_all_dim"),
                scaling.nullableDouble("attention_factor"));
    }
}
