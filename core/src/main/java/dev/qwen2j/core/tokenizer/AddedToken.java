package dev.qwen2j.core.tokenizer;

/**
 * A token added on top of the BPE vocabulary ({@code added_tokens} in {@code tokenizer.json}), matched
 * in the text before any BPE happens.
 *
 * @param singleWord only match when not inside a word
 * @param lstrip     also swallow the whitespace on its left
 * @param rstrip     also swallow the whitespace on its right
 * @param normalized match against the normalized text rather than the raw text
 * @param special    a control token (skipped by {@code decode(ids, true)})
 */
record AddedToken(int id, String content, boolean singleWord, boolean lstrip, boolean rstrip,
                  boolean normalized, boolean special) {
}
