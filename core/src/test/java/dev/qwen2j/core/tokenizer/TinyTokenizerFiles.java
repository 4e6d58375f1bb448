package dev.qwen2j.core.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A small Qwen2-style tokenizer.json written by the test: the 256 byte symbols, a handful of merges
 * (in the "a b" string form) and added tokens with every flag, so flag handling can be compared with
 * Hugging Face quickly.
 */
final class TinyTokenizerFiles {

    static final ObjectMapper JSON = new ObjectMapper();

    private TinyTokenizerFiles() {
    }

    static ObjectNode tokenizerJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ObjectNode model = JSON.createObjectNode();
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(ByteLevel.charOf(b)), b);
        }
        List<String[]> merges = new ArrayList<>();
        String[][] pairs = {{"t", "h"}, {"th", "e"}, {"Ġ", "the"}, {"i", "n"}, {"in", "g"}, {"e", "r"},
                {"Ġ", "a"}, {"o", "r"}, {"w", "or"}, {"wor", "d"}, {"Ġ", "Ġ"}, {"ĠĠ", "Ġ"}};
        int next = 256;
        ArrayNode mergeArray = model.putArray("merges");
        for (String[] p : pairs) {
            vocab.put(p[0] + p[1], next++);
            mergeArray.add(p[0] + " " + p[1]);
            merges.add(p);
        }
        root.set("model", model);
        ArrayNode added = root.putArray("added_tokens");
        addToken(added, next++, "<s>", false, false, false, false, true);
        addToken(added, next++, "<mask>", false, true, false, false, true);
        addToken(added, next++, "[SEP]", false, false, true, false, true);
        // Already in the vocabulary: Hugging Face keeps the vocabulary id (and so does the file here).
        addToken(added, vocab.get("word").asInt(), "word", true, false, false, true, false);
        addToken(added, next++, "cafe\u0301", false, false, false, true, false);
        addToken(added, next++, "<|im_end|>", false, false, false, false, true);
        // single_word and not in the vocabulary, so matching it or not gives different ids
        addToken(added, next++, "qz", true, false, false, false, false);
        root.putObject("normalizer").put("type", "NFC");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode pres = pre.putArray("pretokenizers");
        ObjectNode split = pres.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", Qwen2PreTokenizer.PATTERN);
        split.put("behavior", "Isolated");
        split.put("invert", false);
        ObjectNode byteLevel = pres.addObject();
        byteLevel.put("type", "ByteLevel");
        byteLevel.put("add_prefix_space", false);
        byteLevel.put("trim_offsets", false);
        byteLevel.put("use_regex", false);
        root.set("post_processor", byteLevel.deepCopy());
        root.set("decoder", byteLevel.deepCopy());
        return root;
    }

    private static void addToken(ArrayNode added, int id, String content, boolean singleWord, boolean lstrip,
                                 boolean rstrip, boolean normalized, boolean special) {
        ObjectNode t = added.addObject();
        t.put("id", id);
        t.put("content", content);
        t.put("single_word", singleWord);
        t.put("lstrip", lstrip);
        t.put("rstrip", rstrip);
        t.put("normalized", normalized);
        t.put("special", special);
    }

    static Path write(Path folder, ObjectNode tokenizerJson, String tokenizerConfig) throws IOException {
        Files.createDirectories(folder);
        JSON.writeValue(folder.resolve("tokenizer.json").toFile(), tokenizerJson);
        if (tokenizerConfig != null) {
            Files.writeString(folder.resolve("tokenizer_config.json"), tokenizerConfig);
        }
        return folder;
    }
}
