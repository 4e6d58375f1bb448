package dev.qwen2j.core.tokenizer;

import it.unimi.dsi.fastutil.ints.IntArrayList;
import it.unimi.dsi.fastutil.objects.Object2IntMap;
import it.unimi.dsi.fastutil.objects.Object2IntOpenHashMap;

import java.io.IOException;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The byte-level BPE tokenizer of Qwen2-family models, token-exact with Hugging Face's
 * {@code tokenizers} for the files those models ship ({@code tokenizer.json} with NFC, the Qwen2 split
 * regex and ByteLevel; {@code tokenizer_config.json} for {@code add_bos_token}).
 *
 * <p>{@link #encode} runs: added tokens (leftmost-longest, with their flags) → NFC → Qwen2 pre-tokenizer
 * → byte-level BPE by merge rank. Lone surrogates in the input are read as U+FFFD, as any UTF-8
 * conversion must. Thread-safe; pieces already seen are cached.
 */
public final class Tokenizer {

    private static final int CACHE_CAPACITY = 200_000;
    private static final int CACHE_MAX_PIECE_CHARS = 64;
    private static final int[] NO_IDS = new int[0];

    private final String[] tokens;           // id → token string (BPE vocab form, or added content)
    private final byte[][] tokenBytes;       // id → bytes it decodes to
    private final boolean[] special;
    private final Object2IntMap<String> addedIds; // added token content → id
    private final BytePairEncoder bpe;
    private final Object2IntMap<String> bpeVocab;
    private final boolean ignoreMerges;
    private final AddedTokenMatcher rawAddedTokens;
    private final AddedTokenMatcher normalizedAddedTokens;
    private final int bosId; // -1: none added
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    Tokenizer(String[] tokens, boolean[] special, Object2IntMap<String> bpeVocab, BytePairEncoder bpe,
              boolean ignoreMerges, List<AddedToken> addedTokens, int bosId) {
        this.tokens = tokens;
        this.special = special;
        this.addedIds = new Object2IntOpenHashMap<>();
        this.addedIds.defaultReturnValue(-1);
        for (AddedToken token : addedTokens) {
            addedIds.put(token.content(), token.id());
        }
        this.bpeVocab = bpeVocab;
        this.bpe = bpe;
        this.ignoreMerges = ignoreMerges;
        this.bosId = bosId;
        this.tokenBytes = new byte[tokens.length][];
        for (int id = 0; id < tokens.length; id++) {
            if (tokens[id] != null) {
                tokenBytes[id] = ByteLevel.tokenBytes(tokens[id]);
            }
        }
        List<AddedToken> raw = new ArrayList<>(), normalized = new ArrayList<>();
        List<String> rawPatterns = new ArrayList<>(), normalizedPatterns = new ArrayList<>();
        for (AddedToken token : addedTokens) {
            if (token.normalized()) {
                normalized.add(token);
                normalizedPatterns.add(nfc(token.content()));
            } else {
                raw.add(token);
                rawPatterns.add(token.content());
            }
        }
        this.rawAddedTokens = new AddedTokenMatcher(raw, rawPatterns);
        this.normalizedAddedTokens = new AddedTokenMatcher(normalized, normalizedPatterns);
    }

    /**
     * Loads {@code tokenizer.json} (required) and {@code tokenizer_config.json} (optional) from a model folder.
     *
     * @throws TokenizerException when a file is malformed or describes a tokenizer qwen2j does not support
     */
    public static Tokenizer load(Path folder) throws IOException {
        return TokenizerLoader.load(folder);
    }

    /** Token ids of {@code text}; no special tokens are added except a BOS when the config asks for it. */
    public int[] encode(String text) {
        IntArrayList out = new IntArrayList(Math.max(16, text.length() / 3));
        if (bosId >= 0) {
            out.add(bosId);
        }
        if (text.isEmpty()) {
            return out.toIntArray();
        }
        Scratch s = scratch.get();
        s.out = out;
        try {
            rawAddedTokens.split(withoutLoneSurrogates(text), s.rawSink);
        } finally {
            s.out = null;
        }
        return out.toIntArray();
    }

    /** Text of {@code ids}, special tokens included. Same as {@code decode(ids, false)}. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * Text of {@code ids} as Hugging Face decodes it: token bytes concatenated, then read as UTF-8 with
     * U+FFFD for invalid sequences. Ids that name no token are skipped, as there.
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        int length = 0;
        for (int id : ids) {
            byte[] b = bytesOf(id, skipSpecialTokens);
            length += b == null ? 0 : b.length;
        }
        byte[] all = new byte[length];
        int at = 0;
        for (int id : ids) {
            byte[] b = bytesOf(id, skipSpecialTokens);
            if (b != null) {
                System.arraycopy(b, 0, all, at, b.length);
                at += b.length;
            }
        }
        StringBuilder text = new StringBuilder(length);
        Utf8.decode(all, 0, length, text, true);
        return text.toString();
    }

    /** A decoder for one generation that emits text only in whole characters. */
    public StreamingDecoder streamingDecoder(boolean skipSpecialTokens) {
        return new StreamingDecoder(this, skipSpecialTokens);
    }

    /** One past the largest token id, added tokens included (the model's embedding may be larger). */
    public int vocabSize() {
        return tokens.length;
    }

    /** The id of a token given in its vocabulary form (byte-level for BPE tokens, e.g. {@code "Ġthe"}). */
    public OptionalInt tokenId(String token) {
        int id = addedIds.getInt(token);
        if (id < 0) {
            id = bpeVocab.getInt(token);
        }
        return id >= 0 ? OptionalInt.of(id) : OptionalInt.empty();
    }

    /**
     * The vocabulary form of token {@code id}.
     *
     * @throws IllegalArgumentException when no token has that id
     */
    public String token(int id) {
        if (id < 0 || id >= tokens.length || tokens[id] == null) {
            throw new IllegalArgumentException("no token with id " + id + " (vocabulary size " + tokens.length + ")");
        }
        return tokens[id];
    }

    /** Whether {@code id} is a special added token (such as {@code <|im_end|>}). */
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    /**
     * The bytes token {@code id} stands for (UTF-8, perhaps only part of a character; a special token's text), a
     * copy; empty for an id that names no token.
     */
    public byte[] tokenBytes(int id) {
        byte[] b = bytesOf(id, false);
        return b == null ? new byte[0] : b.clone();
    }

    /** The bytes of token {@code id}, or null when it is skipped or unknown. */
    byte[] bytesOf(int id, boolean skipSpecialTokens) {
        if (id < 0 || id >= tokenBytes.length || (skipSpecialTokens && special[id])) {
            return null;
        }
        return tokenBytes[id];
    }

    // ---- encoding -------------------------------------------------------------------------------------

    /** Per-thread state: sinks that route segments onwards, and BPE scratch arrays. */
    private final class Scratch {
        IntArrayList out;
        byte[] utf8 = new byte[256];
        final BytePairEncoder.Workspace workspace = new BytePairEncoder.Workspace();

        final AddedTokenMatcher.Sink rawSink = new AddedTokenMatcher.Sink() {
            @Override
            public void text(String text, int start, int end) {
                normalizedAddedTokens.split(nfc(text.substring(start, end)), normalizedSink);
            }

            @Override
            public void token(int id) {
                out.add(id);
            }
        };

        final AddedTokenMatcher.Sink normalizedSink = new AddedTokenMatcher.Sink() {
            @Override
            public void text(String text, int start, int end) {
                encodeSegment(text, start, end, Scratch.this);
            }

            @Override
            public void token(int id) {
                out.add(id);
            }
        };
    }

    private void encodeSegment(String text, int start, int end, Scratch s) {
        IntArrayList out = s.out;
        int i = start;
        while (i < end) {
            int pieceEnd = Qwen2PreTokenizer.pieceEnd(text, i, end);
            if (pieceEnd - i <= CACHE_MAX_PIECE_CHARS) {
                String piece = text.substring(i, pieceEnd);
                int[] pieceIds = cache.get(piece);
                if (pieceIds == null) {
                    pieceIds = encodePiece(text, i, pieceEnd, s);
                    if (cache.size() < CACHE_CAPACITY) {
                        cache.put(piece, pieceIds);
                    }
                }
                out.addElements(out.size(), pieceIds);
            } else {
                out.addElements(out.size(), encodePiece(text, i, pieceEnd, s));
            }
            i = pieceEnd;
        }
    }

    /**
     * Forgets the cached pieces and the calling thread's scratch space. For tests that share one loaded tokenizer
     * while a mutation tool swaps the code under it: the cache would otherwise answer with what the previous code
     * computed, and scratch grown under the previous code would hide the current code's growth.
     */
    void clearCache() {
        cache.clear();
        scratch.remove();
    }

    private int[] encodePiece(String text, int start, int end, Scratch s) {
        if (ignoreMerges) {
            int whole = bpeVocab.getOrDefault(byteLevel(text, start, end), -1);
            if (whole >= 0) {
                return new int[] {whole};
            }
        }
        int length = toUtf8(text, start, end, s);
        return length == 0 ? NO_IDS : bpe.encode(s.utf8, length, s.workspace);
    }

    /** UTF-8 of {@code text[start, end)} into {@code s.utf8}; the text has no lone surrogates. */
    private static int toUtf8(String text, int start, int end, Scratch s) {
        if (s.utf8.length < 3 * (end - start)) {
            s.utf8 = new byte[Math.max(3 * (end - start), 2 * s.utf8.length)];
        }
        byte[] b = s.utf8;
        int n = 0;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                b[n++] = (byte) c;
            } else if (c < 0x800) {
                b[n++] = (byte) (0xC0 | (c >> 6));
                b[n++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c)) {
                int cp = Character.toCodePoint(c, text.charAt(++i));
                b[n++] = (byte) (0xF0 | (cp >> 18));
                b[n++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                b[n++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                b[n++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                b[n++] = (byte) (0xE0 | (c >> 12));
                b[n++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                b[n++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        return n;
    }

    private static String byteLevel(String text, int start, int end) {
        byte[] utf8 = text.substring(start, end).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        char[] chars = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            chars[i] = ByteLevel.charOf(utf8[i] & 0xFF);
        }
        return new String(chars);
    }

    /** NFC, skipping the work for text that cannot change (nothing at or above U+0300). */
    static String nfc(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) >= 0x300) {
                return Normalizer.normalize(text, Normalizer.Form.NFC);
            }
        }
        return text;
    }

    /** The text with every unpaired surrogate replaced by U+FFFD (what a UTF-8 conversion yields). */
    static String withoutLoneSurrogates(String text) {
        char[] fixed = null;
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                    continue;
                }
                if (fixed == null) {
                    fixed = text.toCharArray();
                }
                fixed[i] = '\uFFFD';
            }
        }
        return fixed == null ? text : new String(fixed);
    }
}
