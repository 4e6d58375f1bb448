package dev.qwen2j.cuda;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.KvCacheLayer;

/**
 * The KV cache's two kernels on the device, over the CPU's paged layout ({@link KvCacheLayer}: pages of
 * {@link KvCacheLayer#PAGE} positions, keys transposed {@code [kvHead][headDim][PAGE]}, values
 * {@code [kvHead][PAGE][headDim]}), so that page tables, the prefix cache and copy on write are the model's, shared
 * by both backends. A launch reads the sequence's page table from the device (uploaded just before).
 */
final class PagedKv {

    private PagedKv() {
    }

    static void store(CudaBackend backend, KvCacheLayer cache, CudaBackend.DeviceBuffer src, int kOffset, int vOffset,
                      int stride, int tokens, int startPosition) {
        checkPositions(cache, startPosition, tokens);
        if (tokens == 0) {
            return;
        }
        long pages = backend.pageTable(cache);
        CudaContext cuda = backend.context();
        cuda.launch("store_kv", Launch.storeKv(tokens, cache.kvHeads(), cache.headDim()), cuda.args()
                .pointer(src.pointer()).i32(kOffset).i32(vOffset).i32(stride)
                .pointer(cache.keys().address()).pointer(cache.values().address()).pointer(pages)
                .i32(cache.kvHeads()).i32(cache.headDim()).i32(startPosition).i32(bf16(cache)));
    }

    static void attend(CudaBackend backend, CudaBackend.DeviceBuffer q, int qOffset, int qStride, int heads,
                       KvCacheLayer cache, int tokens, int startPosition, int window, CudaBackend.DeviceBuffer out,
                       int outOffset) {
        checkPositions(cache, startPosition, tokens);
        if (heads % cache.kvHeads() != 0) {
            throw new IllegalArgumentException(heads + " query heads cannot share " + cache.kvHeads() + " KV heads evenly");
        }
        if (tokens == 0) {
            return;
        }
        long pages = backend.pageTable(cache);
        CudaContext cuda = backend.context();
        cuda.launch("attention", Launch.attention(tokens, heads, cache.headDim()), cuda.args()
                .pointer(q.pointer()).i32(qOffset).i32(qStride)
                .pointer(cache.keys().address()).pointer(cache.values().address()).pointer(pages)
                .pointer(out.pointer()).i32(outOffset)
                .i32(heads).i32(cache.kvHeads()).i32(cache.headDim()).i32(startPosition).i32(window)
                .f32((float) (1.0 / Math.sqrt(cache.headDim()))).i32(bf16(cache)));
    }

    private static int bf16(KvCacheLayer cache) {
        return cache.dtype() == DType.BF16 ? 1 : 0;
    }

    private static void checkPositions(KvCacheLayer cache, int startPosition, int tokens) {
        if (startPosition < 0 || tokens < 0 || (long) startPosition + tokens > cache.capacity()) {
            throw new IllegalArgumentException("positions [" + startPosition + ", " + (startPosition + tokens)
                    + ") outside the KV cache's " + cache.capacity());
        }
    }
}
