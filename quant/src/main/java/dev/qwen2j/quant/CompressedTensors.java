package dev.qwen2j.quant;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code quantization_config} of a Hugging Face folder in neuralmagic's compressed-tensors layout, as far as
 * qwen2j runs it: {@code quant_method: "compressed-tensors"}, format {@code int-quantized} (or its alias
 * {@code naive-quantized}; or {@code pack-quantized}, four 8-bit values per int32, unpacked to int8 on load), status
 * {@code compressed}, config groups of symmetric 8-bit integer weights with strategy
 * {@code channel}, {@code group} or {@code tensor}, each Linear matched by its {@code targets} ({@code Linear}, a
 * module name, or {@code re:} a regular expression matched at the start of the name) unless the {@code ignore} list
 * matches it. Input activations may be dynamic symmetric int8 (W8A8): qwen2j computes those matrices with its own
 * activations (F32, or int8 per block of 32, finer than per token). Anything else (other bit widths, asymmetric zero
 * points, static activation scales, output activations, activation ordering, KV-cache schemes, sparsity, other
 * formats) is an error naming the field.
 *
 * @param groups  the config groups in file order (the first one that matches a module wins)
 * @param ignore  module names or {@code re:} patterns that stay float
 * @param format  {@code int-quantized}, {@code naive-quantized} or {@code pack-quantized}
 */
public record CompressedTensors(List<Group> groups, List<String> ignore, String format) {

    /** The field of config.json that holds the quantization config. */
    public static final String FIELD = "quantization_config";
    public static final String QUANT_METHOD = "compressed-tensors";
    public static final String FORMAT = "int-quantized";
    /** Four 8-bit values per int32 ({@code weight_packed}), as W8A16 checkpoints are often published; unpacked on load. */
    public static final String PACKED_FORMAT = "pack-quantized";
    private static final Set<String> FORMATS = Set.of(FORMAT, "naive-quantized", PACKED_FORMAT);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How one group of Linear modules stores its weights. */
    public enum Strategy { CHANNEL, GROUP, TENSOR }

    /**
     * One config group.
     *
     * @param groupSize inputs per scale for {@link Strategy#GROUP}; 0 otherwise
     */
    public record Group(String name, List<String> targets, Strategy strategy, int groupSize, boolean packed) {
    }

    /** The quantization config in {@code folder/config.json}, or empty when the model is not quantized. */
    public static Optional<CompressedTensors> read(Path folder) throws IOException {
        Path file = folder.resolve("config.json");
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (JacksonException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode config = root == null ? null : root.get(FIELD);
        if (config == null || config.isNull()) {
            return Optional.empty();
        }
        return Optional.of(parse(config, new Fields(file)));
    }

    /** Describes {@code config} (the {@value #FIELD} object) or throws naming the unsupported field. */
    static CompressedTensors parse(JsonNode config, Fields f) throws IOException {
        if (!config.isObject()) {
            throw f.error("", "must be a JSON object");
        }
        String method = f.text(config, "quant_method", null);
        if (!QUANT_METHOD.equals(method)) {
            throw f.error("quant_method", (method == null ? "missing" : "'" + method + "' is not supported")
                    + "; qwen2j reads compressed-tensors int8 (quant_method \"" + QUANT_METHOD + "\")");
        }
        String format = f.text(config, "format", "dense");
        if (!FORMATS.contains(format)) {
            throw f.error("format", "'" + format + "' is not supported; qwen2j reads \"" + FORMAT + "\" (I8 tensors)"
                    + " and 8-bit \"" + PACKED_FORMAT + "\"");
        }
        String status = f.text(config, "quantization_status", "compressed");
        if (!"compressed".equals(status)) {
            throw f.error("quantization_status", "'" + status + "': the weights are not stored compressed");
        }
        for (String unsupported : List.of("kv_cache_scheme", "transform_config")) {
            if (present(config.get(unsupported))) {
                throw f.error(unsupported, "is not supported (qwen2j quantizes weights only)");
            }
        }
        JsonNode sparsity = config.get("sparsity_config");
        if (present(sparsity) && !sparsity.isEmpty()) {
            throw f.error("sparsity_config", "sparse compression is not supported");
        }
        JsonNode groupsNode = config.get("config_groups");
        if (groupsNode == null || !groupsNode.isObject() || groupsNode.isEmpty()) {
            throw f.error("config_groups", "missing or empty");
        }
        List<Group> groups = new ArrayList<>();
        for (Map.Entry<String, JsonNode> entry : groupsNode.properties()) {
            groups.add(group(entry.getKey(), entry.getValue(), format, f, "config_groups." + entry.getKey() + "."));
        }
        return new CompressedTensors(List.copyOf(groups), f.strings(config, "ignore", ""), format);
    }

    private static Group group(String name, JsonNode scheme, String format, Fields f, String at) throws IOException {
        if (!scheme.isObject()) {
            throw f.error(at.substring(0, at.length() - 1), "must be a JSON object");
        }
        String groupFormat = f.text(scheme, "format", null);
        if (groupFormat != null && !FORMATS.contains(groupFormat)) {
            throw f.error(at + "format", "'" + groupFormat + "' is not supported; qwen2j reads \"" + FORMAT + "\"");
        }
        if (present(scheme.get("output_activations"))) {
            throw f.error(at + "output_activations", "output quantization is not supported");
        }
        JsonNode input = scheme.get("input_activations");
        if (present(input)) {
            // W8A8 with dynamic per-token (or per-tensor) int8 activations: computed at least as precisely here.
            String inAt = at + "input_activations.";
            integer8(input, f, inAt);
            if (!input.path("dynamic").asBoolean(false)) {
                throw f.error(inAt + "dynamic", "static activation scales (input_scale) are not supported; only"
                        + " dynamic activation quantization");
            }
        }
        JsonNode weights = scheme.get("weights");
        if (!present(weights)) {
            throw f.error(at + "weights", "missing: qwen2j needs quantized weights");
        }
        String wAt = at + "weights.";
        integer8(weights, f, wAt);
        if (weights.path("dynamic").asBoolean(false)) {
            throw f.error(wAt + "dynamic", "dynamic weight quantization is not supported");
        }
        JsonNode actorder = weights.get("actorder");
        if (present(actorder) && !(actorder.isBoolean() && !actorder.asBoolean())) {
            throw f.error(wAt + "actorder", "activation ordering (weight_g_idx) is not supported");
        }
        if (present(weights.get("block_structure"))) {
            throw f.error(wAt + "block_structure", "block quantization is not supported");
        }
        JsonNode groupSizeNode = weights.get("group_size");
        int groupSize = present(groupSizeNode) ? groupSizeNode.asInt() : 0;
        String strategyName = f.text(weights, "strategy", null);
        Strategy strategy;
        if (strategyName == null) { // compressed-tensors infers it from group_size
            strategy = !present(groupSizeNode) ? Strategy.TENSOR : groupSize == -1 ? Strategy.CHANNEL : Strategy.GROUP;
        } else {
            try {
                strategy = Strategy.valueOf(strategyName.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw f.error(wAt + "strategy", "'" + strategyName + "' is not supported (channel, group or tensor)");
            }
        }
        if (strategy == Strategy.GROUP && groupSize <= 0) {
            throw f.error(wAt + "group_size", "strategy group needs a positive group_size, found " + groupSizeNode);
        }
        List<String> targets = f.strings(scheme, "targets", at);
        if (targets.isEmpty()) {
            throw f.error(at + "targets", "missing or empty");
        }
        String stored = groupFormat != null ? groupFormat : format; // newer files name a format per group
        return new Group(name, targets, strategy, strategy == Strategy.GROUP ? groupSize : 0, PACKED_FORMAT.equals(stored));
    }

    /** num_bits 8, type int, symmetric: what qwen2j computes with. */
    private static void integer8(JsonNode args, Fields f, String at) throws IOException {
        if (!args.isObject()) {
            throw f.error(at.substring(0, at.length() - 1), "must be a JSON object");
        }
        int bits = args.path("num_bits").asInt(8);
        if (bits != 8) {
            throw f.error(at + "num_bits", bits + "-bit quantization is not supported (8 bits only)");
        }
        String type = f.text(args, "type", "int");
        if (!"int".equals(type)) {
            throw f.error(at + "type", "'" + type + "' is not supported (int only)");
        }
        if (!args.path("symmetric").asBoolean(true)) {
            throw f.error(at + "symmetric", "asymmetric quantization (zero points) is not supported");
        }
    }

    private static boolean present(JsonNode node) {
        return node != null && !node.isNull() && !node.isMissingNode();
    }

    /**
     * The group whose targets match the Linear module {@code module} (e.g. {@code model.layers.0.mlp.up_proj}),
     * unless {@link #ignore} matches it: empty means the module stays float.
     */
    public Optional<Group> groupFor(String module) {
        if (matchesAny(module, ignore)) {
            return Optional.empty();
        }
        for (Group group : groups) {
            if (matchesAny(module, group.targets())) {
                return Optional.of(group);
            }
        }
        return Optional.empty();
    }

    /** compressed-tensors' rule: the module's class name, its exact name, or {@code re:} matched at its start. */
    private static boolean matchesAny(String module, List<String> patterns) {
        for (String pattern : patterns) {
            if (pattern.equals("Linear") || pattern.equals(module)
                    || pattern.startsWith("re:") && Pattern.compile(pattern.substring(3)).matcher(module).lookingAt()) {
                return true;
            }
        }
        return false;
    }

    /** The {@value #FIELD} object qwen2j writes: one group of int8 weights for every Linear, {@code ignore} kept float. */
    public static ObjectNode toJson(Quantization quantization, List<String> ignore) {
        ObjectNode config = JSON.createObjectNode();
        ObjectNode group = config.putObject("config_groups").putObject("group_0");
        group.putArray("targets").add("Linear");
        ObjectNode weights = group.putObject("weights");
        weights.put("num_bits", 8);
        weights.put("type", "int");
        weights.put("symmetric", true);
        if (quantization.groupSize() == Quantization.CHANNEL) {
            weights.put("strategy", "channel");
            weights.putNull("group_size");
        } else {
            weights.put("strategy", "group");
            weights.put("group_size", quantization.groupSize());
        }
        weights.put("dynamic", false);
        weights.putNull("actorder");
        weights.putNull("block_structure");
        weights.put("observer", "minmax");
        weights.putObject("observer_kwargs");
        group.putNull("input_activations");
        group.putNull("output_activations");
        config.put("format", FORMAT);
        config.put("quant_method", QUANT_METHOD);
        config.put("quantization_status", "compressed");
        config.putNull("global_compression_ratio");
        ignore.forEach(config.putArray("ignore")::add);
        config.putNull("kv_cache_scheme");
        config.putObject("sparsity_config");
        return config;
    }

    /** {@code quantization_config} fields of one config.json, for errors that name file and field. */
    record Fields(Path file) {

        IOException error(String field, String message) {
            return new IOException(file + ": " + FIELD + (field.isEmpty() ? "" : "." + field) + ": " + message);
        }

        String text(JsonNode node, String field, String fallback) throws IOException {
            JsonNode value = node.get(field);
            if (!present(value)) {
                return fallback;
            }
            if (!value.isTextual()) {
                throw error(field, "must be a string, found " + value);
            }
            return value.textValue();
        }

        List<String> strings(JsonNode node, String field, String at) throws IOException {
            JsonNode value = node.get(field);
            if (!present(value)) {
                return List.of();
            }
            if (!value.isArray()) {
                throw error(at + field, "must be a list of strings, found " + value);
            }
            List<String> out = new ArrayList<>();
            for (JsonNode item : value) {
                if (!item.isTextual()) {
                    throw error(at + field, "must be a list of strings, found " + item);
                }
                out.add(item.textValue());
            }
            return List.copyOf(out);
        }
    }
}
