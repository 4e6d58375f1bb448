package dev.qwen2j.core.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import it.unimi.dsi.fastutil.longs.Long2LongOpenHashMap;
import it.unimi.dsi.fastutil.objects.Object2IntMap;
import it.unimi.dsi.fastutil.objects.Object2IntOpenHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@code tokenizer.json} and {@code tokenizer_config.json} into a {@link Tokenizer}, refusing
 * anything but the byte-level BPE pipeline of the Qwen2 family with an error that names the field.
 */
final class TokenizerLoader {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = LoggerFactory.getLogger(TokenizerLoader.class);

    private TokenizerLoader() {
    }

    static Tokenizer load(Path folder) throws IOException {
        Path file = folder.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException(folder + ": no tokenizer.json");
        }
        TokenizerJson json = TokenizerJson.read(file);
        JsonNode root = json.root();
        JsonNode model = required(root, "model", "model", file);
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE")) {
            throw TokenizerException.field(file, "model.type", "is '" + type + "'; only byte-level BPE is supported");
        }
        checkUnsupportedBpeOptions(model, file);
        checkNormalizer(root.get("normalizer"), file);
        checkPreTokenizer(root.get("pre_tokenizer"), file);
        JsonNode decoder = root.get("decoder");
        if (decoder != null && !decoder.isNull() && !decoder.path("type").asText().equals("ByteLevel")) {
            throw TokenizerException.field(file, "decoder.type", "is '" + decoder.path("type").asText()
                    + "'; only ByteLevel is supported");
        }
        if (json.vocab() == null) {
            throw TokenizerException.field(file, "model.vocab", model.has("vocab") ? "is not an object" : "is missing");
        }
        if (json.merges() == null) {
            throw TokenizerException.field(file, "model.merges", model.has("merges") ? "is not an array" : "is missing");
        }
        Object2IntOpenHashMap<String> bpeVocab = json.vocab();
        int maxId = -1;
        for (Object2IntMap.Entry<String> entry : bpeVocab.object2IntEntrySet()) {
            maxId = Math.max(maxId, entry.getIntValue());
        }

        List<AddedToken> added = assignIds(readAddedTokens(root.get("added_tokens"), file), bpeVocab, file);
        for (AddedToken token : added) {
            maxId = Math.max(maxId, token.id());
        }
        String[] tokens = new String[maxId + 1];
        boolean[] special = new boolean[maxId + 1];
        Object2IntOpenHashMap<String> ids = new Object2IntOpenHashMap<>();
        ids.defaultReturnValue(-1);
        for (Object2IntMap.Entry<String> entry : bpeVocab.object2IntEntrySet()) {
            tokens[entry.getIntValue()] = entry.getKey();
        }
        for (AddedToken token : added) {
            tokens[token.id()] = token.content();
            special[token.id()] = token.special();
            ids.put(token.content(), token.id());
        }

        int[] byteIds = new int[256];
        for (int b = 0; b < 256; b++) {
            byteIds[b] = bpeVocab.getInt(String.valueOf(ByteLevel.charOf(b)));
            if (byteIds[b] < 0) {
                throw TokenizerException.field(file, "model.vocab", "lacks the byte-level symbol for byte " + b
                        + " ('" + ByteLevel.charOf(b) + "'); not a byte-level BPE vocabulary");
            }
        }
        BytePairEncoder bpe = new BytePairEncoder(resolveMerges(json.merges(), bpeVocab, file), byteIds);
        boolean ignoreMerges = model.path("ignore_merges").asBoolean(false);
        int bosId = readBos(folder.resolve("tokenizer_config.json"), ids, bpeVocab);
        return new Tokenizer(tokens, special, bpeVocab, bpe, ignoreMerges, added, bosId);
    }

    private static JsonNode readJson(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (JacksonException e) {
            throw new TokenizerException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static JsonNode required(JsonNode parent, String field, String path, Path file) throws TokenizerException {
        JsonNode node = parent.get(field);
        if (node == null || node.isNull()) {
            throw TokenizerException.field(file, path, "is missing");
        }
        return node;
    }

    private static void checkUnsupportedBpeOptions(JsonNode model, Path file) throws TokenizerException {
        if (model.path("byte_fallback").asBoolean(false)) {
            throw TokenizerException.field(file, "model.byte_fallback", "is true; not supported");
        }
        for (String affix : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            if (!model.path(affix).asText("").isEmpty()) {
                throw TokenizerException.field(file, "model." + affix, "is set; not supported");
            }
        }
        JsonNode dropout = model.get("dropout");
        if (dropout != null && !dropout.isNull() && dropout.asDouble() != 0) {
            throw TokenizerException.field(file, "model.dropout", "is set; not supported");
        }
    }

    private static void checkNormalizer(JsonNode normalizer, Path file) throws TokenizerException {
        if (normalizer == null || normalizer.isNull()) {
            throw TokenizerException.field(file, "normalizer", "is missing; the Qwen2 tokenizer normalizes to NFC");
        }
        String type = normalizer.path("type").asText();
        boolean nfc = type.equals("NFC") || (type.equals("Sequence") && normalizer.path("normalizers").size() == 1
                && normalizer.path("normalizers").get(0).path("type").asText().equals("NFC"));
        if (!nfc) {
            throw TokenizerException.field(file, "normalizer.type", "is '" + type + "'; only NFC is supported");
        }
    }

    private static void checkPreTokenizer(JsonNode pre, Path file) throws TokenizerException {
        if (pre == null || pre.isNull()) {
            throw TokenizerException.field(file, "pre_tokenizer", "is missing");
        }
        if (!pre.path("type").asText().equals("Sequence") || pre.path("pretokenizers").size() != 2) {
            throw TokenizerException.field(file, "pre_tokenizer", "is not the Qwen2 Sequence [Split, ByteLevel]");
        }
        JsonNode split = pre.path("pretokenizers").get(0);
        if (!split.path("type").asText().equals("Split")) {
            throw TokenizerException.field(file, "pre_tokenizer.pretokenizers[0].type", "is '"
                    + split.path("type").asText() + "'; expected Split");
        }
        if (!split.path("pattern").path("Regex").asText().equals(Qwen2PreTokenizer.PATTERN)) {
            throw TokenizerException.field(file, "pre_tokenizer.pretokenizers[0].pattern.Regex",
                    "is not the Qwen2 regex; other split patterns are not supported");
        }
        if (!split.path("behavior").asText().equals("Isolated") || split.path("invert").asBoolean(false)) {
            throw TokenizerException.field(file, "pre_tokenizer.pretokenizers[0].behavior",
                    "must be Isolated and not inverted");
        }
        JsonNode byteLevel = pre.path("pretokenizers").get(1);
        if (!byteLevel.path("type").asText().equals("ByteLevel")) {
            throw TokenizerException.field(file, "pre_tokenizer.pretokenizers[1].type", "is '"
                    + byteLevel.path("type").asText() + "'; expected ByteLevel");
        }
        if (byteLevel.path("add_prefix_space").asBoolean(false) || byteLevel.path("use_regex").asBoolean(true)) {
            throw TokenizerException.field(file, "pre_tokenizer.pretokenizers[1]",
                    "must have add_prefix_space false and use_regex false");
        }
    }

    private static List<AddedToken> readAddedTokens(JsonNode array, Path file) throws TokenizerException {
        List<AddedToken> tokens = new ArrayList<>();
        if (array == null || array.isNull()) {
            return tokens;
        }
        for (int i = 0; i < array.size(); i++) {
            JsonNode t = array.get(i);
            String where = "added_tokens[" + i + "]";
            if (!t.path("id").canConvertToInt() || t.path("id").asInt() < 0) {
                throw TokenizerException.field(file, where + ".id", "is missing or not a token id");
            }
            if (!t.path("content").isTextual()) {
                throw TokenizerException.field(file, where + ".content", "is missing");
            }
            boolean special = t.path("special").asBoolean(false);
            tokens.add(new AddedToken(t.get("id").asInt(), t.get("content").asText(),
                    t.path("single_word").asBoolean(false), t.path("lstrip").asBoolean(false),
                    t.path("rstrip").asBoolean(false), t.path("normalized").asBoolean(!special), special));
        }
        return tokens;
    }

    /**
     * Gives added tokens the ids Hugging Face gives them, which ignores the ids in the file: a token whose
     * content is already known keeps that id, a new one gets the next free id after the vocabulary.
     * Consistent files (all published Qwen ones) come out unchanged; others get a warning, as there.
     */
    private static List<AddedToken> assignIds(List<AddedToken> tokens, Object2IntMap<String> vocab, Path file) {
        Object2IntOpenHashMap<String> assigned = new Object2IntOpenHashMap<>();
        assigned.defaultReturnValue(-1);
        int maxAssigned = -1;
        List<AddedToken> result = new ArrayList<>();
        for (AddedToken token : tokens) {
            int id = assigned.getInt(token.content());
            if (id < 0) {
                id = vocab.getInt(token.content());
            }
            if (id < 0) {
                id = maxAssigned >= vocab.size() ? maxAssigned + 1 : vocab.size();
            }
            if (id != token.id()) {
                LOG.warn("{}: added token '{}' has id {} in the file but gets id {}, as in Hugging Face tokenizers",
                        file, token.content(), token.id(), id);
            }
            assigned.put(token.content(), id);
            maxAssigned = Math.max(maxAssigned, id);
            result.add(new AddedToken(id, token.content(), token.singleWord(), token.lstrip(), token.rstrip(),
                    token.normalized(), token.special()));
        }
        return result;
    }

    private static Long2LongOpenHashMap resolveMerges(List<String[]> merges, Object2IntMap<String> vocab, Path file)
            throws TokenizerException {
        Long2LongOpenHashMap map = new Long2LongOpenHashMap(merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            String left = merges.get(rank)[0], right = merges.get(rank)[1];
            int leftId = vocab.getInt(left), rightId = vocab.getInt(right), mergedId = vocab.getInt(left + right);
            if (leftId < 0 || rightId < 0 || mergedId < 0) {
                String missing = leftId < 0 ? left : rightId < 0 ? right : left + right;
                throw TokenizerException.field(file, "model.merges[" + rank + "]", "uses '" + missing + "', which is not in model.vocab");
            }
            map.put(BytePairEncoder.pair(leftId, rightId), ((long) rank << 32) | mergedId);
        }
        return map;
    }

    /** The BOS id when tokenizer_config.json asks for one ({@code add_bos_token}), else -1. */
    private static int readBos(Path file, Object2IntMap<String> addedIds, Object2IntMap<String> vocab) throws IOException {
        JsonNode config = readJson(file);
        if (config == null || !config.path("add_bos_token").asBoolean(false)) {
            return -1;
        }
        JsonNode bos = config.get("bos_token");
        String content = bos == null || bos.isNull() ? null : bos.isTextual() ? bos.asText() : bos.path("content").asText(null);
        if (content == null) {
            throw TokenizerException.field(file, "bos_token", "is missing but add_bos_token is true");
        }
        int id = addedIds.containsKey(content) ? addedIds.getInt(content) : vocab.getInt(content);
        if (id < 0) {
            throw TokenizerException.field(file, "bos_token", "'" + content + "' is not a token");
        }
        return id;
    }
}
