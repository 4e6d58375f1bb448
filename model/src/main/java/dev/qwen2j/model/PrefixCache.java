package dev.qwen2j.model;

import dev.qwen2j.tensor.KvCacheLayer;
import dev.qwen2j.tensor.PageTable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Automatic prefix caching, as vLLM does it: the full KV pages of prompts prefilled in a continuous batch stay
 * registered by the tokens they hold, so that a later prompt that starts with the same tokens (a shared system
 * prompt, the earlier turns of a chat) takes them up and prefills only the rest.
 *
 * <p>A page of {@link KvCacheLayer#PAGE} tokens is found by a hash chained over its parent's hash and its own tokens,
 * so equal hashes mean equal prefixes with overwhelming probability; a hit is still checked token by token and
 * against its parent, so a collision can only cost a miss, never wrong keys. Pages are reference-counted by the
 * {@link PageAllocator}: one no sequence holds waits in its least-recently-released list, and when the pool needs
 * pages it reclaims them, telling this cache, which forgets the page and every page registered after it (their
 * prefix is gone).
 *
 * <p>Only pages a prefill computed are registered, never those decoding filled: decode computes a token's keys
 * through other kernels than a block of prompt tokens (one-row matrix-vector product and attention), so a page from
 * decode would not hold the bits a prefill of the same tokens gives. Confined to the thread of its batch.
 */
final class PrefixCache implements PageAllocator.Evictor {

    /** One registered page: the tokens it holds and the page before it in its prompt (null for a first page). */
    private static final class Block {
        final long hash;
        final int page;
        final int[] tokens;
        final Block parent;
        final List<Block> children = new ArrayList<>(1);

        Block(long hash, int page, int[] tokens, Block parent) {
            this.hash = hash;
            this.page = page;
            this.tokens = tokens;
            this.parent = parent;
        }
    }

    private static final int PAGE = KvCacheLayer.PAGE;

    private final PageAllocator allocator;
    private final Map<Long, Block> byHash = new HashMap<>();
    private final Block[] byPage;

    PrefixCache(PageAllocator allocator) {
        this.allocator = allocator;
        this.byPage = new Block[allocator.pages()];
        allocator.evictor(this);
    }

    /**
     * The pages that hold the longest run of {@code tokens}' full pages registered here, at most {@code maxPages},
     * written into {@code pages}.
     *
     * @return how many
     */
    int match(int[] tokens, int maxPages, int[] pages) {
        long hash = 0;
        Block parent = null;
        int matched = 0;
        for (int i = 0; i < maxPages; i++) {
            hash = chain(hash, tokens, i * PAGE);
            Block b = byHash.get(hash);
            if (b == null || b.parent != parent || !holds(b, tokens, i * PAGE)) {
                break;
            }
            pages[matched++] = b.page;
            parent = b;
        }
        return matched;
    }

    /**
     * Registers the first {@code fullPages} pages of {@code table}, which hold {@code tokens} from position 0 on as a
     * prefill computed them. A page whose prefix is registered already on another page (the same prompt prefilled
     * twice at once) stays unregistered and is freed as usual.
     */
    void register(int[] tokens, int fullPages, PageTable table) {
        long hash = 0;
        Block parent = null;
        for (int i = 0; i < fullPages; i++) {
            hash = chain(hash, tokens, i * PAGE);
            Block known = byHash.get(hash);
            if (known != null) {
                if (known.parent != parent || !holds(known, tokens, i * PAGE)) {
                    return; // a hash collision: keep what is registered, register nothing after it
                }
                parent = known;
                continue;
            }
            int page = table.page(i);
            if (byPage[page] != null) {
                return; // cannot happen (a registered page holds its own prefix), but never register a page twice
            }
            Block b = new Block(hash, page, Arrays.copyOfRange(tokens, i * PAGE, (i + 1) * PAGE), parent);
            byHash.put(hash, b);
            byPage[page] = b;
            if (parent != null) {
                parent.children.add(b);
            }
            allocator.markCached(page);
            parent = b;
        }
    }

    /** The pool reclaims {@code page}: it and the pages registered after it are forgotten. */
    @Override
    public void evicted(int page) {
        Block b = byPage[page];
        if (b == null) {
            return;
        }
        if (b.parent != null) {
            b.parent.children.remove(b);
        }
        forget(b);
    }

    private void forget(Block b) {
        byHash.remove(b.hash);
        byPage[b.page] = null;
        allocator.uncache(b.page); // no-op for the page being evicted; a later one goes free (or will, once released)
        for (Block child : b.children) {
            forget(child);
        }
        b.children.clear();
    }

    /** Pages registered now. */
    int registeredPages() {
        return byHash.size();
    }

    private static boolean holds(Block b, int[] tokens, int from) {
        return Arrays.equals(b.tokens, 0, PAGE, tokens, from, from + PAGE);
    }

    /** The hash of a page's tokens chained onto its parent's: equal for equal prefixes. */
    private static long chain(long parent, int[] tokens, int from) {
        long h = parent ^ 0x9E3779B97F4A7C15L;
        for (int i = from; i < from + PAGE; i++) {
            h = mix(h + tokens[i]);
        }
        return h;
    }

    /** MurmurHash3's 64-bit finalizer: every input bit reaches every output bit. */
    private static long mix(long h) {
        h = (h ^ (h >>> 33)) * 0xFF51AFD7ED558CCDL;
        h = (h ^ (h >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return h ^ (h >>> 33);
    }
}
