package dev.qwen2j.core.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Decoding, streaming, the small API and error reporting. */
class TokenizerTest {

    private final Tokenizer qwen = TokenizerFixture.qwen2j();

    @Test
    void vocabularyLookups() {
        assertEquals(151669, qwen.vocabSize());
        assertEquals(151645, qwen.tokenId("<|im_end|>").orElseThrow());
        assertEquals("<|im_end|>", qwen.token(151645));
        assertTrue(qwen.isSpecial(151645));
        assertFalse(qwen.isSpecial(151657)); // <tool_call> is added but not special
        assertEquals("Ġthe", qwen.token(qwen.tokenId("Ġthe").orElseThrow()));
        assertTrue(qwen.tokenId("no such token").isEmpty());
        assertThrows(IllegalArgumentException.class, () -> qwen.token(151900));
        assertArrayEquals(new int[0], qwen.encode(""));
        // the first and last ids and the first past the end: each range check at its edge
        int last = qwen.vocabSize() - 1;
        assertEquals(0, qwen.tokenId("!").orElseThrow());
        assertEquals("!", qwen.token(0));
        assertEquals(last, qwen.tokenId(qwen.token(last)).orElseThrow());
        assertThrows(IllegalArgumentException.class, () -> qwen.token(qwen.vocabSize()));
        assertThrows(IllegalArgumentException.class, () -> qwen.token(-1));
        assertFalse(qwen.isSpecial(0));
        assertFalse(qwen.isSpecial(-1));
        assertFalse(qwen.isSpecial(qwen.vocabSize()));
        assertEquals("!", qwen.decode(new int[] {0}));
        assertEquals("!!", qwen.decode(new int[] {-1, 0, qwen.vocabSize(), 0}), "unknown ids decode to nothing");
        assertArrayEquals(new byte[] {'!'}, qwen.tokenBytes(0));
        assertArrayEquals("<|im_end|>".getBytes(java.nio.charset.StandardCharsets.UTF_8), qwen.tokenBytes(151645));
        assertArrayEquals(new byte[0], qwen.tokenBytes(qwen.vocabSize()));
        assertArrayEquals(new byte[0], qwen.tokenBytes(-1));
    }

    @Test
    void decodeMatchesHuggingFaceOnRandomIdsIncludingBrokenUtf8() {
        SplittableRandom random = new SplittableRandom(11);
        HuggingFaceTokenizer djl = TokenizerFixture.djl();
        for (int i = 0; i < 500; i++) {
            int[] ids = new int[random.nextInt(1, 12)];
            for (int k = 0; k < ids.length; k++) {
                int roll = random.nextInt(10);
                // Byte tokens (ids < 256 here are single bytes) make invalid and partial UTF-8 likely.
                ids[k] = roll < 5 ? random.nextInt(256) : roll < 9 ? random.nextInt(151643) : 151643 + random.nextInt(26);
            }
            long[] longIds = Arrays.stream(ids).asLongStream().toArray();
            for (boolean skip : new boolean[] {false, true}) {
                String expected = djl.decode(longIds, skip);
                assertEquals(TokenizerParityTest.escape(expected), TokenizerParityTest.escape(qwen.decode(ids, skip)),
                        "ids " + Arrays.toString(ids) + " skipSpecial=" + skip);
                assertEquals(expected, streamed(ids, skip), "streamed " + Arrays.toString(ids));
            }
        }
    }

    @Test
    void decodeSkipsSpecialTokensOnRequestAndUnknownIdsAlways() {
        int[] ids = qwen.encode("<|im_start|>user\nhi<|im_end|><tool_call>");
        assertEquals("<|im_start|>user\nhi<|im_end|><tool_call>", qwen.decode(ids));
        assertEquals("user\nhi<tool_call>", qwen.decode(ids, true));
        assertEquals("hi", qwen.decode(new int[] {151900, qwen.tokenId("hi").orElseThrow(), -1}));
    }

    @Test
    void streamingNeverSplitsACharacter() {
        String text = "a😀é中\uD83D\uDC68\u200D\uD83D\uDC69 ok 👍🏿";
        int[] ids = qwen.encode(text);
        StreamingDecoder decoder = qwen.streamingDecoder(false);
        StringBuilder all = new StringBuilder();
        int pieces = 0;
        for (int id : ids) {
            String piece = decoder.accept(id);
            if (!piece.isEmpty()) {
                pieces++;
                assertFalse(Character.isHighSurrogate(piece.charAt(piece.length() - 1)), "split surrogate pair");
                assertFalse(piece.contains("\uFFFD"), "emitted a partial character as U+FFFD: " + piece);
            }
            all.append(piece);
        }
        all.append(decoder.finish());
        assertEquals(text, all.toString());
        assertTrue(pieces > 1);

        // Bytes of an unfinished character are held back, then flushed as U+FFFD at the end.
        int firstByteOfEuro = qwen.tokenId(String.valueOf(ByteLevel.charOf(0xE2))).orElseThrow();
        int secondByteOfEuro = qwen.tokenId(String.valueOf(ByteLevel.charOf(0x82))).orElseThrow();
        int thirdByteOfEuro = qwen.tokenId(String.valueOf(ByteLevel.charOf(0xAC))).orElseThrow();
        StreamingDecoder euro = qwen.streamingDecoder(false);
        assertEquals("", euro.accept(firstByteOfEuro));
        assertEquals("", euro.accept(secondByteOfEuro));
        assertEquals("€", euro.accept(thirdByteOfEuro));
        assertEquals("", euro.accept(firstByteOfEuro));
        assertEquals("\uFFFD", euro.finish());
    }

    @Test
    void tinyTokenizerFlagsMatchHuggingFace(@TempDir Path dir) throws IOException {
        tinyTokenizerMatchesHuggingFace(dir.resolve("tiny"), TinyTokenizerFiles.tokenizerJson());
    }

    /** ignore_merges: a word that is a whole vocabulary entry is that one token, whatever the merges would build. */
    @Test
    void ignoreMergesTakesWholeVocabularyWordsAsHuggingFaceDoes(@TempDir Path dir) throws IOException {
        ObjectNode json = TinyTokenizerFiles.tokenizerJson();
        ObjectNode model = (ObjectNode) json.get("model");
        model.put("ignore_merges", true);
        ((ObjectNode) model.get("vocab")).put("ting", 1000); // no merge builds it; an id after the added ones
        tinyTokenizerMatchesHuggingFace(dir.resolve("ignore-merges"), json);
    }

    private static void tinyTokenizerMatchesHuggingFace(Path dir, ObjectNode json) throws IOException {
        Path folder = TinyTokenizerFiles.write(dir, json, null);
        Tokenizer tiny = Tokenizer.load(folder);
        List<String> texts = List.of("the thing in the word", "a  <mask> b", "x   <mask>", "[SEP]   y", "[SEP]\n\nz",
                "words word sword word_ word1 (word) 'word'", "café cafe\u0301 cafés", "<s>the</s>", "<mask><mask>",
                "  <mask>[SEP]  <mask>  ", "wordword", "   ", "théâtre", "x<|im_end|>",
                "qz xqz qzx qz1 1qz _qz qz_ (qz) 'qz' éqz qzé qz\u0301 \u0301qz qz\u200D qz\u2160 qz", "qz",
                "[SEP]\tz", "[SEP]\rz", "[SEP]\u000Bz", "[SEP]\u2000z", "[SEP]\u200Az", "[SEP]\u0008z",
                "[SEP]\u000Ez", "[SEP]\u1FFFz", "[SEP]\u200Bz", "[SEP]  ", "a \t<mask>", "a \u000E<mask>",
                "ting thing tings the ting", "é ting");
        try (HuggingFaceTokenizer djl = HuggingFaceTokenizer.builder().optTokenizerPath(folder)
                .optAddSpecialTokens(false).optTruncation(false).optPadding(false).build()) {
            for (String text : texts) {
                long[] expected = djl.encode(text).getIds();
                assertArrayEquals(Arrays.stream(expected).mapToInt(Math::toIntExact).toArray(), tiny.encode(text),
                        () -> "tiny tokenizer: " + TokenizerParityTest.escape(text));
            }
        }
    }

    @Test
    void listAndStringMergesAreTheSame(@TempDir Path dir) throws IOException {
        ObjectNode json = TinyTokenizerFiles.tokenizerJson();
        Tokenizer stringForm = Tokenizer.load(TinyTokenizerFiles.write(dir.resolve("a"), json, null));
        ArrayNode merges = (ArrayNode) json.path("model").path("merges");
        ArrayNode lists = TinyTokenizerFiles.JSON.createArrayNode();
        merges.forEach(m -> lists.addArray().add(m.asText().split(" ")[0]).add(m.asText().split(" ")[1]));
        ((ObjectNode) json.path("model")).set("merges", lists);
        Tokenizer listForm = Tokenizer.load(TinyTokenizerFiles.write(dir.resolve("b"), json, null));
        String text = "the thing in the word or   other";
        assertArrayEquals(stringForm.encode(text), listForm.encode(text));
        assertTrue(stringForm.encode(text).length < text.length()); // merges did apply
    }

    @Test
    void bosOnlyWhenTheConfigAsks(@TempDir Path dir) throws IOException {
        ObjectNode json = TinyTokenizerFiles.tokenizerJson();
        Tokenizer with = Tokenizer.load(TinyTokenizerFiles.write(dir.resolve("with"), json,
                "{\"add_bos_token\": true, \"bos_token\": {\"content\": \"<s>\"}}"));
        Tokenizer without = Tokenizer.load(TinyTokenizerFiles.write(dir.resolve("without"), json,
                "{\"add_bos_token\": false, \"bos_token\": \"<s>\"}"));
        int bos = with.tokenId("<s>").orElseThrow();
        assertArrayEquals(new int[] {bos}, with.encode(""));
        assertEquals(bos, with.encode("the")[0]);
        assertEquals(with.encode("the").length - 1, without.encode("the").length);
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(TinyTokenizerFiles.write(
                dir.resolve("nobos"), json, "{\"add_bos_token\": true}")));
        assertTrue(e.getMessage().contains("bos_token"), e.getMessage());
    }

    @Test
    void unsupportedOrBrokenFilesNameTheField(@TempDir Path dir) throws IOException {
        assertField(dir, "wordpiece", j -> ((ObjectNode) j.get("model")).put("type", "WordPiece"), "model.type");
        assertField(dir, "unigram", j -> ((ObjectNode) j.get("model")).put("type", "Unigram"), "model.type");
        assertField(dir, "novocab", j -> ((ObjectNode) j.get("model")).remove("vocab"), "model.vocab");
        assertField(dir, "nomerges", j -> ((ObjectNode) j.get("model")).remove("merges"), "model.merges");
        assertField(dir, "nomodel", j -> j.remove("model"), "model");
        assertField(dir, "badmerge", j -> ((ArrayNode) j.get("model").get("merges")).add("zz qq"), "model.merges[12]");
        assertField(dir, "regex", j -> ((ObjectNode) j.get("pre_tokenizer").get("pretokenizers").get(0).get("pattern"))
                .put("Regex", "\\s+"), "pre_tokenizer.pretokenizers[0].pattern.Regex");
        assertField(dir, "normalizer", j -> ((ObjectNode) j.get("normalizer")).put("type", "NFKC"), "normalizer.type");
        assertField(dir, "addedid", j -> ((ObjectNode) j.get("added_tokens").get(0)).remove("id"), "added_tokens[0].id");
        assertField(dir, "bytefallback", j -> ((ObjectNode) j.get("model")).put("byte_fallback", true), "model.byte_fallback");
        TokenizerException missing = assertThrows(TokenizerException.class, () -> Tokenizer.load(dir.resolve("nothing")));
        assertTrue(missing.getMessage().contains("tokenizer.json"), missing.getMessage());
    }

    private static void assertField(Path dir, String name, java.util.function.Consumer<ObjectNode> breakIt, String field)
            throws IOException {
        ObjectNode json = TinyTokenizerFiles.tokenizerJson();
        breakIt.accept(json);
        Path folder = TinyTokenizerFiles.write(dir.resolve(name), json, null);
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(folder), name);
        assertTrue(e.getMessage().contains("'" + field + "'") && e.getMessage().contains("tokenizer.json"),
                name + ": " + e.getMessage());
    }

    private String streamed(int[] ids, boolean skip) {
        StreamingDecoder decoder = qwen.streamingDecoder(skip);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(decoder.accept(id));
        }
        return sb.append(decoder.finish()).toString();
    }
}
