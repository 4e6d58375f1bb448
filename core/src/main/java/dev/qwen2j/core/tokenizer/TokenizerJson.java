package dev.qwen2j.core.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import it.unimi.dsi.fastutil.objects.Object2IntOpenHashMap;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code tokenizer.json} read in one streaming pass: the large {@code model.vocab} and {@code model.merges}
 * go straight into maps and lists (a Jackson tree of them would be ~600k nodes), everything else
 * becomes a tree.
 *
 * @param root   the file without {@code model.vocab} and {@code model.merges} when those were read
 * @param vocab  token → id, or null when absent or not an object
 * @param merges pairs in rank order, or null when absent or not an array
 */
record TokenizerJson(ObjectNode root, Object2IntOpenHashMap<String> vocab, List<String[]> merges) {

    /** Field names are not canonicalized: 151k one-off vocabulary keys would only churn Jackson's symbol tables. */
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .build());

    static TokenizerJson read(Path file) throws IOException {
        try (JsonParser p = JSON.createParser(file.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new TokenizerException(file + ": not a JSON object");
            }
            ObjectNode root = JSON.createObjectNode();
            Object2IntOpenHashMap<String> vocab = null;
            List<String[]> merges = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (!name.equals("model") || value != JsonToken.START_OBJECT) {
                    root.set(name, p.readValueAsTree());
                    continue;
                }
                ObjectNode model = root.putObject("model");
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    JsonToken token = p.nextToken();
                    if (field.equals("vocab") && token == JsonToken.START_OBJECT) {
                        vocab = readVocab(p, file);
                        model.putObject("vocab");
                    } else if (field.equals("merges") && token == JsonToken.START_ARRAY) {
                        merges = readMerges(p, file);
                        model.putArray("merges");
                    } else {
                        model.set(field, p.<JsonNode>readValueAsTree());
                    }
                }
            }
            return new TokenizerJson(root, vocab, merges);
        } catch (JacksonException e) {
            throw new TokenizerException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static Object2IntOpenHashMap<String> readVocab(JsonParser p, Path file) throws IOException {
        Object2IntOpenHashMap<String> vocab = new Object2IntOpenHashMap<>(1 << 18);
        vocab.defaultReturnValue(-1);
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String token = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_NUMBER_INT || p.getLongValue() < 0 || p.getLongValue() > Integer.MAX_VALUE - 1) {
                throw TokenizerException.field(file, "model.vocab." + token, "is not a token id");
            }
            vocab.put(token, p.getIntValue());
        }
        return vocab;
    }

    private static List<String[]> readMerges(JsonParser p, Path file) throws IOException {
        List<String[]> merges = new ArrayList<>(1 << 18);
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            String where = "model.merges[" + merges.size() + "]";
            if (t == JsonToken.VALUE_STRING) {
                String merge = p.getText();
                int space = merge.indexOf(' ');
                if (space < 0 || merge.indexOf(' ', space + 1) >= 0) {
                    throw TokenizerException.field(file, where, "is not two tokens: '" + merge + "'");
                }
                merges.add(new String[] {merge.substring(0, space), merge.substring(space + 1)});
            } else if (t == JsonToken.START_ARRAY && p.nextToken() == JsonToken.VALUE_STRING) {
                String left = p.getText();
                if (p.nextToken() != JsonToken.VALUE_STRING) {
                    throw TokenizerException.field(file, where, "is not two tokens");
                }
                String right = p.getText();
                if (p.nextToken() != JsonToken.END_ARRAY) {
                    throw TokenizerException.field(file, where, "is not two tokens");
                }
                merges.add(new String[] {left, right});
            } else {
                throw TokenizerException.field(file, where, "is neither \"a b\" nor [\"a\", \"b\"]");
            }
        }
        return merges;
    }
}
