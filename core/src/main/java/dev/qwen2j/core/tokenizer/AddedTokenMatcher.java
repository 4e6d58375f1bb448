package dev.qwen2j.core.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Finds added tokens in text the way Hugging Face's AddedVocabulary does: leftmost-longest,
 * non-overlapping matches, then each token's single_word / lstrip / rstrip rule. Immutable.
 */
final class AddedTokenMatcher {

    /** Receives the text between tokens and the tokens themselves, in order. */
    interface Sink {
        void text(String text, int start, int end);

        void token(int id);
    }

    /** For each first char, the tokens starting with it, longest first; null when none. */
    private final AddedToken[][] byFirstChar;
    private final boolean empty;

    /** The content of each token as it is matched (normalized for normalized tokens). */
    AddedTokenMatcher(List<AddedToken> tokens, List<String> patterns) {
        List<List<AddedToken>> lists = new ArrayList<>();
        for (int i = 0; i < 65536; i++) {
            lists.add(null);
        }
        for (int t = 0; t < tokens.size(); t++) {
            String pattern = patterns.get(t);
            if (pattern.isEmpty()) {
                continue;
            }
            AddedToken token = tokens.get(t);
            AddedToken matched = new AddedToken(token.id(), pattern, token.singleWord(), token.lstrip(),
                    token.rstrip(), token.normalized(), token.special());
            char first = pattern.charAt(0);
            if (lists.get(first) == null) {
                lists.set(first, new ArrayList<>());
            }
            lists.get(first).add(matched);
        }
        boolean any = false;
        this.byFirstChar = new AddedToken[65536][];
        for (int c = 0; c < 65536; c++) {
            List<AddedToken> list = lists.get(c);
            if (list != null) {
                AddedToken[] array = list.toArray(AddedToken[]::new);
                // Longest first; among equal contents the first declared wins, as in the Aho-Corasick build.
                Arrays.sort(array, Comparator.comparingInt((AddedToken a) -> -a.content().length()));
                byFirstChar[c] = array;
                any = true;
            }
        }
        this.empty = !any;
    }

    /** Splits {@code text} into plain text and added tokens. */
    void split(String text, Sink sink) {
        int n = text.length();
        if (empty) {
            if (n > 0) {
                sink.text(text, 0, n);
            }
            return;
        }
        int emitted = 0; // end of what has been handed to the sink
        int searchFrom = 0;
        while (searchFrom < n) {
            AddedToken match = null;
            int matchStart = searchFrom;
            for (; matchStart < n; matchStart++) {
                AddedToken[] candidates = byFirstChar[text.charAt(matchStart)];
                if (candidates != null) {
                    match = longestAt(text, matchStart, candidates);
                    if (match != null) {
                        break;
                    }
                }
            }
            if (match == null) {
                break;
            }
            int start = matchStart;
            int stop = matchStart + match.content().length();
            searchFrom = stop;
            if (match.singleWord()) {
                boolean wordBefore = start > 0 && isWordChar(Character.codePointBefore(text, start));
                boolean wordAfter = stop < n && isWordChar(Character.codePointAt(text, stop));
                if (wordBefore || wordAfter) {
                    continue;
                }
            }
            if (match.lstrip()) {
                int s = start;
                while (s > 0 && Qwen2PreTokenizer.isWhiteSpace(text.charAt(s - 1))) {
                    s--;
                }
                start = Math.max(s, emitted);
            }
            if (match.rstrip()) {
                while (stop < n && Qwen2PreTokenizer.isWhiteSpace(text.charAt(stop))) {
                    stop++;
                }
            }
            if (emitted < start) {
                sink.text(text, emitted, start);
            }
            sink.token(match.id());
            emitted = Math.max(emitted, stop);
        }
        if (emitted < n) {
            sink.text(text, emitted, n);
        }
    }

    private static AddedToken longestAt(String text, int at, AddedToken[] candidates) {
        for (AddedToken candidate : candidates) {
            if (text.startsWith(candidate.content(), at)) {
                return candidate;
            }
        }
        return null;
    }

    /** Rust regex's Unicode {@code \w}: Alphabetic, marks, decimal digits, connector punctuation, joiners. */
    private static boolean isWordChar(int cp) {
        if (Character.isAlphabetic(cp) || cp == 0x200C || cp == 0x200D) {
            return true;
        }
        return switch (Character.getType(cp)) {
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK,
                 Character.DECIMAL_DIGIT_NUMBER, Character.CONNECTOR_PUNCTUATION -> true;
            default -> false;
        };
    }
}
