package dev.qwen2j.cuda;

import dev.qwen2j.core.safetensors.DType;
import dev.qwen2j.tensor.KvCacheLayer;

/**
 * The KV cache's two kernels on the device, over the CPU's paged layout ({@link KvCacheLayer}: head-major pools of
 * pages of {@link KvCacheLayer#PAGE} positions, keys transposed {@code [kvHead][poolPage][headDim][PAGE]}, values
 * {@code [kvHead][poolPage][PAGE][headDim]}, I8 scales beside), so that page tables, the prefix cache and copy on write are the model's, shared
 * by both backends. A launch reads the sequence's page table from the device (uploaded just before).
 */
final class PagedKv {

    private PagedKv() {
    }

    static void store(CudaBackend backend, KvCacheLayer cache, CudaBackend.DeviceBuffer src, int kOffset, int vOffset,
                      int stride, int tokens, int startPosition) {
        cache.checkPositions(startPosition, tokens);
        if (tokens == 0) {
            return;
        }
        long pages = backend.pageTable(cache);
        CudaContext cuda = backend.context();
        CudaContext.LaunchArgs a = cuda.args().pointer(src.pointer()).i32(kOffset).i32(vOffset).i32(stride)
                .pointer(cache.keys().address()).pointer(cache.values().address());
        scales(cache, a);
        cuda.launch("store_kv_" + suffix(cache), Launch.storeKv(tokens, cache.kvHeads()), a.pointer(pages)
                .i32(cache.kvHeads()).i32(cache.poolPages()).i32(cache.headDim()).i32(startPosition));
    }

    static void attend(CudaBackend backend, CudaBackend.DeviceBuffer q, int qOffset, int qStride, int heads,
                       KvCacheLayer cache, int tokens, int startPosition, int window, CudaBackend.DeviceBuffer out,
                       int outOffset) {
        cache.checkPositions(startPosition, tokens);
        if (heads % cache.kvHeads() != 0) {
            throw new IllegalArgumentException(heads + " query heads cannot share " + cache.kvHeads() + " KV heads evenly");
        }
        if (tokens == 0) {
            return;
        }
        long pages = backend.pageTable(cache);
        CudaContext cuda = backend.context();
        CudaContext.LaunchArgs a = cuda.args().pointer(q.pointer()).i32(qOffset).i32(qStride).i32(heads)
                .pointer(cache.keys().address()).pointer(cache.values().address());
        scales(cache, a);
        a.pointer(pages).i32(cache.kvHeads()).i32(cache.poolPages()).i32(cache.headDim()).i32(startPosition).i32(window)
                .f32((float) (1.0 / Math.sqrt(cache.headDim()))).pointer(out.at(outOffset));
        cuda.launch("attention_" + suffix(cache), Launch.attention(heads, tokens, cache.headDim()), a);
    }

    /** I8 pools pass their key and value scales before the page table. */
    private static void scales(KvCacheLayer cache, CudaContext.LaunchArgs a) {
        if (cache.dtype() == DType.I8) {
            a.pointer(cache.keyScales().address()).pointer(cache.valueScales().address());
        }
    }

    /** The kernel of the pool's element type: {@code f32}, {@code bf16} or {@code i8}. */
    private static String suffix(KvCacheLayer cache) {
        return switch (cache.dtype()) {
            case F32 -> "f32";
            case BF16 -> "bf16";
            case I8 -> "i8";
            default -> throw new IllegalArgumentException("KV cache of " + cache.dtype());
        };
    }
}
