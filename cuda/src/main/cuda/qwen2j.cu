// qwen2j's CUDA kernels: the Qwen2 forward pass on device-resident activations and a device KV cache in the CPU's
// paged layout (see store_kv). Compiled to PTX for sm_90 (scripts/build-ptx.sh);
// the PTX is committed beside the Java sources that load it. Launch geometry is documented per kernel and
// mirrored by CudaLaunches on the Java side.
#include <stdint.h>

#define WARP 32

__device__ __forceinline__ float bf16_to_float(uint16_t b) {
    return __uint_as_float(((uint32_t) b) << 16);
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int offset = WARP / 2; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    }
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int offset = WARP / 2; offset > 0; offset >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    }
    return v;
}

// A block-wide sum; blockDim.x a multiple of 32, at most 1024. Every thread gets the total.
__device__ float block_sum(float v) {
    __shared__ float partial[WARP];
    int lane = threadIdx.x % WARP;
    int warp = threadIdx.x / WARP;
    v = warp_sum(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    int warps = blockDim.x / WARP;
    v = threadIdx.x < warps ? partial[threadIdx.x] : 0.0f;
    if (warp == 0) v = warp_sum(v);
    if (threadIdx.x == 0) partial[0] = v;
    __syncthreads();
    float total = partial[0];
    __syncthreads();
    return total;
}

// out[t, :] = x[t, :] / sqrt(mean(x[t, :]^2) + eps) * w. Grid: tokens blocks; block: 256 threads.
extern "C" __global__ void rms_norm(const float* x, const float* w, float* out, int n, float eps) {
    const float* row = x + (size_t) blockIdx.x * n;
    float* dst = out + (size_t) blockIdx.x * n;
    float squares = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) squares += row[i] * row[i];
    float inverse = rsqrtf(block_sum(squares) / n + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) dst[i] = row[i] * inverse * w[i];
}

// Rotate-half RoPE in place: head h of token t at x[t*stride + offset + h*head_dim]. Grid: (tokens, heads);
// block: head_dim/2 threads (at most 1024), thread i pairs element i with i + head_dim/2.
extern "C" __global__ void rope(float* x, const float* inv_freq, int offset, int stride, int head_dim,
                                int start_position, float scaling) {
    int half = head_dim / 2;
    int i = threadIdx.x;
    if (i >= half) return;
    float angle = (float) (start_position + (int) blockIdx.x) * inv_freq[i];
    float s, c;
    sincosf(angle, &s, &c);
    c *= scaling;
    s *= scaling;
    float* head = x + (size_t) blockIdx.x * stride + offset + (size_t) blockIdx.y * head_dim;
    float x0 = head[i], x1 = head[i + half];
    head[i] = x0 * c - x1 * s;
    head[i + half] = x1 * c + x0 * s;
}

// out[i] = silu(gate_up[i]) * gate_up[n + i] for one token. Grid: ceil(n / 256); block: 256.
extern "C" __global__ void swiglu(const float* gate_up, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float g = gate_up[i];
        out[i] = g / (1.0f + __expf(-g)) * gate_up[n + i];
    }
}

// x[i] += delta[i]. Grid: ceil(n / 256); block: 256.
extern "C" __global__ void add(float* x, const float* delta, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += delta[i];
}

// out[t, :] = bf16 table[ids[t], :] as F32. Grid: tokens; block: 256.
extern "C" __global__ void embed_bf16(const uint16_t* table, const int* ids, float* out, int dim) {
    const uint16_t* row = table + (size_t) ids[blockIdx.x] * dim;
    float* dst = out + (size_t) blockIdx.x * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) dst[i] = bf16_to_float(row[i]);
}

// y[r] = W[r, :] . x + bias[r] for bf16 W [rows][cols]. One warp per row, 8 warps a block: grid ceil(rows/8),
// block 256. Lanes stride the row in 8-element (16-byte) loads when cols % 8 == 0, else element by element.
extern "C" __global__ void matvec_bf16(const uint16_t* w, const float* x, const float* bias, float* y,
                                       int rows, int cols) {
    int row = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    int lane = threadIdx.x % WARP;
    if (row >= rows) return;
    const uint16_t* r = w + (size_t) row * cols;
    float sum = 0.0f;
    if (cols % 8 == 0) {
        const uint4* r8 = (const uint4*) r;
        for (int k = lane; k < cols / 8; k += WARP) {
            uint4 packed = r8[k];
            const float* xk = x + k * 8;
            sum += bf16_to_float(packed.x & 0xffff) * xk[0] + bf16_to_float(packed.x >> 16) * xk[1]
                 + bf16_to_float(packed.y & 0xffff) * xk[2] + bf16_to_float(packed.y >> 16) * xk[3]
                 + bf16_to_float(packed.z & 0xffff) * xk[4] + bf16_to_float(packed.z >> 16) * xk[5]
                 + bf16_to_float(packed.w & 0xffff) * xk[6] + bf16_to_float(packed.w >> 16) * xk[7];
        }
    } else {
        for (int k = lane; k < cols; k += WARP) sum += bf16_to_float(r[k]) * x[k];
    }
    sum = warp_sum(sum);
    if (lane == 0) y[row] = bias == nullptr ? sum : sum + bias[row];
}

// y[r] = sum_g scale[r, g] * (W8[r, g*group ..] . x[g*group ..]) + bias[r]: symmetric int8 weights with one F32
// scale per row and group of `group` columns (group == cols: per channel). One warp per row, as matvec_bf16.
extern "C" __global__ void matvec_int8(const int8_t* w, const float* scales, const float* x, const float* bias,
                                       float* y, int rows, int cols, int group) {
    int row = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    int lane = threadIdx.x % WARP;
    if (row >= rows) return;
    const int8_t* r = w + (size_t) row * cols;
    const float* s = scales + (size_t) row * (cols / group);
    float sum = 0.0f;
    for (int k = lane; k < cols; k += WARP) sum += s[k / group] * (float) r[k] * x[k];
    sum = warp_sum(sum);
    if (lane == 0) y[row] = bias == nullptr ? sum : sum + bias[row];
}

#define PAGE 32
#define PAGE_SHIFT 5
// Most head_dim / 32 accumulators a lane of the attention kernel holds: head_dim <= 256.
#define MAX_DIMS_PER_LANE 8

__device__ __forceinline__ uint16_t float_to_bf16(float f) {
    uint32_t bits = __float_as_uint(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t) ((bits >> 16) | 0x40);
    return (uint16_t) ((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

__device__ __forceinline__ float kv_load(const void* base, size_t index, int bf16) {
    return bf16 ? bf16_to_float(((const uint16_t*) base)[index]) : ((const float*) base)[index];
}

__device__ __forceinline__ void kv_store(void* base, size_t index, float value, int bf16) {
    if (bf16) ((uint16_t*) base)[index] = float_to_bf16(value);
    else ((float*) base)[index] = value;
}

// Keys and values of `tokens` tokens into the paged cache (qwen2j's KvCacheLayer layout): page = pages[position /
// PAGE], slot = position % PAGE; per page and KV head, keys transposed [head_dim][PAGE], values [PAGE][head_dim].
// Token t's key of head h is src[k_offset + t*stride + h*head_dim + d], its value at v_offset likewise.
// Grid: (tokens, kv_heads); block: head_dim threads (<= 1024), thread d one dimension.
extern "C" __global__ void store_kv(const float* src, int k_offset, int v_offset, int stride, void* keys,
                                    void* values, const int* pages, int kv_heads, int head_dim,
                                    int start_position, int bf16) {
    int t = blockIdx.x, h = blockIdx.y, d = threadIdx.x;
    int position = start_position + t;
    size_t page = (size_t) pages[position >> PAGE_SHIFT];
    int slot = position & (PAGE - 1);
    size_t head = page * kv_heads + h;
    size_t row = (size_t) t * stride + (size_t) h * head_dim + d;
    kv_store(keys, (head * head_dim + d) * PAGE + slot, src[k_offset + row], bf16);
    kv_store(values, (head * PAGE + slot) * head_dim + d, src[v_offset + row], bf16);
}

// Causal grouped-query attention of one query row over the paged cache, as CpuBackend.attention: query head h of
// token t (q[q_offset + t*q_stride + h*head_dim ..], position start_position + t) attends to KV head
// h / (heads / kv_heads) at positions [max(0, pos - window + 1), pos] (window <= 0: from 0), scaled by `scale`;
// the result goes to out[out_offset + (t*heads + h)*head_dim ..].
// Grid: (tokens, heads); block: ATTENTION_WARPS warps. Warp w takes pages w, w + warps, ...: lane = slot scores a
// page (the transposed keys make each dimension's 32 slots one coalesced load), an online softmax per warp, lanes
// own dimensions lane, lane + 32, ... of the value sum; the warps' states merge at the end.
#define ATTENTION_WARPS 4
extern "C" __global__ void attention(const float* q, int q_offset, int q_stride, const void* keys,
                                     const void* values, const int* pages, float* out, int out_offset, int heads,
                                     int kv_heads, int head_dim, int start_position, int window, float scale,
                                     int bf16) {
    __shared__ float query[256];
    __shared__ float warp_m[ATTENTION_WARPS], warp_l[ATTENTION_WARPS];
    __shared__ float warp_acc[ATTENTION_WARPS][256];
    int t = blockIdx.x, h = blockIdx.y;
    int kv = h / (heads / kv_heads);
    int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    int position = start_position + t;
    int first = window > 0 ? max(0, position - window + 1) : 0;
    const float* qh = q + q_offset + (size_t) t * q_stride + (size_t) h * head_dim;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) query[d] = qh[d];
    __syncthreads();

    float m = -INFINITY, l = 0.0f;
    float acc[MAX_DIMS_PER_LANE];
    for (int j = 0; j < MAX_DIMS_PER_LANE; j++) acc[j] = 0.0f;
    for (int p = (first >> PAGE_SHIFT) + warp; p <= (position >> PAGE_SHIFT); p += ATTENTION_WARPS) {
        size_t head = (size_t) pages[p] * kv_heads + kv;
        int slot_position = p * PAGE + lane;
        float score = 0.0f;
        for (int d = 0; d < head_dim; d++) score += query[d] * kv_load(keys, (head * head_dim + d) * PAGE + lane, bf16);
        bool visible = slot_position >= first && slot_position <= position;
        score = visible ? score * scale : -INFINITY;
        float page_max = warp_max(score);
        float m_new = fmaxf(m, page_max);          // finite: every page holds at least one visible slot
        float correction = __expf(m - m_new);      // 0 on the first page (m = -inf)
        float weight = visible ? __expf(score - m_new) : 0.0f;
        l = l * correction + warp_sum(weight);
        for (int j = 0; j < MAX_DIMS_PER_LANE; j++) acc[j] *= correction;
        for (int s = 0; s < PAGE; s++) {
            float w = __shfl_sync(0xffffffffu, weight, s);
            if (w == 0.0f) continue;               // the same for every lane: no divergence
            size_t row = (head * PAGE + s) * head_dim;
            for (int j = 0; j < MAX_DIMS_PER_LANE; j++) {
                int d = lane + j * WARP;
                if (d < head_dim) acc[j] += w * kv_load(values, row + d, bf16);
            }
        }
        m = m_new;
    }
    if (lane == 0) { warp_m[warp] = m; warp_l[warp] = l; }
    for (int j = 0; j < MAX_DIMS_PER_LANE; j++) {
        int d = lane + j * WARP;
        if (d < head_dim) warp_acc[warp][d] = acc[j];
    }
    __syncthreads();
    float total_m = -INFINITY;
    for (int w = 0; w < ATTENTION_WARPS; w++) total_m = fmaxf(total_m, warp_m[w]);
    float total_l = 0.0f;
    for (int w = 0; w < ATTENTION_WARPS; w++) {
        if (warp_m[w] != -INFINITY) total_l += __expf(warp_m[w] - total_m) * warp_l[w];
    }
    float* dst = out + out_offset + ((size_t) t * heads + h) * head_dim;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float sum = 0.0f;
        for (int w = 0; w < ATTENTION_WARPS; w++) {
            if (warp_m[w] != -INFINITY) sum += __expf(warp_m[w] - total_m) * warp_acc[w][d];
        }
        dst[d] = sum / total_l;
    }
}

// The index of the largest of n floats (the first on ties), into *result. Grid: 1; block: 1024.
extern "C" __global__ void argmax(const float* x, int n, int* result) {
    __shared__ float best_value[1024 / WARP];
    __shared__ int best_index[1024 / WARP];
    float value = -INFINITY;
    int index = 0x7fffffff;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        if (x[i] > value) { value = x[i]; index = i; }
    }
    for (int offset = WARP / 2; offset > 0; offset >>= 1) {
        float v = __shfl_xor_sync(0xffffffffu, value, offset);
        int j = __shfl_xor_sync(0xffffffffu, index, offset);
        if (v > value || (v == value && j < index)) { value = v; index = j; }
    }
    int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    if (lane == 0) { best_value[warp] = value; best_index[warp] = index; }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < blockDim.x / WARP; w++) {
            if (best_value[w] > value || (best_value[w] == value && best_index[w] < index)) {
                value = best_value[w];
                index = best_index[w];
            }
        }
        *result = index;
    }
}

// Activations rounded to bf16 (nearest even) for cuBLAS's bf16 GEMM. Grid: ceil(n / 256); block: 256.
extern "C" __global__ void to_bf16(const float* x, uint16_t* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        uint32_t bits = __float_as_uint(x[i]);
        out[i] = (bits & 0x7fffffffu) > 0x7f800000u ? (uint16_t) ((bits >> 16) | 0x40)
                                                      : (uint16_t) ((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
    }
}

// y[t, r] += bias[r] for n = tokens * rows elements of row-major y. Grid: ceil(n / 256); block: 256.
extern "C" __global__ void add_bias(float* y, const float* bias, int rows, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] += bias[i % rows];
}
