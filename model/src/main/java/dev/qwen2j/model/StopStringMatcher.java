package dev.qwen2j.model;

import java.util.List;

/**
 * Finds stop strings in text that arrives in pieces. Text that could still be the start of a stop string is
 * held back until the next piece decides, so a stop string (and whatever follows it) is never passed on, even
 * when it is split across pieces. One per generation; not thread-safe.
 */
public final class StopStringMatcher {

    private final String[] stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    /** @param stopStrings the strings to stop at, none empty; an empty list passes everything through */
    public StopStringMatcher(List<String> stopStrings) {
        this.stops = stopStrings.toArray(String[]::new);
        for (String s : stops) {
            if (s == null || s.isEmpty()) {
                throw new IllegalArgumentException("stopStrings must not contain an empty string");
            }
        }
    }

    /**
     * Takes the next piece and returns the text that is now safe to emit (possibly ""). When a stop string
     * completes, returns the text before it and {@link #stopped()} becomes true; later pieces are ignored.
     */
    public String accept(String piece) {
        if (stopped || piece.isEmpty()) {
            return "";
        }
        if (stops.length == 0) {
            return piece;
        }
        held.append(piece);
        int earliest = -1;
        for (String stop : stops) {
            int at = held.indexOf(stop);
            if (at >= 0 && (earliest < 0 || at < earliest)) {
                earliest = at;
            }
        }
        if (earliest >= 0) {
            stopped = true;
            String before = held.substring(0, earliest);
            held.setLength(0);
            return before;
        }
        int keep = longestSuffixThatStartsAStop();
        String safe = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return safe;
    }

    /** True once a stop string was seen. */
    public boolean stopped() {
        return stopped;
    }

    /** The text held back at the end of a generation that did not stop at a stop string; "" after a stop. */
    public String finish() {
        String rest = stopped ? "" : held.toString();
        held.setLength(0);
        return rest;
    }

    /** Length of the longest proper suffix of {@code held} that is a prefix of some stop string. */
    private int longestSuffixThatStartsAStop() {
        int best = 0;
        int length = held.length();
        for (String stop : stops) {
            for (int k = Math.min(stop.length() - 1, length); k > best; k--) {
                if (heldEndsWith(stop, k)) {
                    best = k;
                    break;
                }
            }
        }
        return best;
    }

    /** True when the last {@code k} characters held equal the first {@code k} of {@code stop}. */
    private boolean heldEndsWith(String stop, int k) {
        int offset = held.length() - k;
        for (int i = 0; i < k; i++) {
            if (held.charAt(offset + i) != stop.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
