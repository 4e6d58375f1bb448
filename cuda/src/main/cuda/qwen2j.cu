// qwen2j's CUDA kernels: the Qwen2 forward pass on device-resident F32 activations of `tokens` rows, bf16 or int8
// weights, and the CPU backend's paged KV cache (tensor/KvCacheLayer): head-major pools of pages of PAGE = 32
// positions, keys [kv_head][pool_page][head_dim][PAGE] (transposed) and values [kv_head][pool_page][PAGE][head_dim],
// found through a sequence's page table (int32, logical page -> pool page). Compiled to PTX for sm_90
// (scripts/build-ptx.sh); the PTX is committed beside the Java sources that load it. Launch geometry is documented per kernel and mirrored by
// Launch.java; KernelIndexEmulationTest replays the index arithmetic on the CPU.
#include <stdint.h>

#define WARP 32
#define PAGE 32
#define PAGE_SHIFT 5
// Rows of x one matvec weight pass serves: a larger batch is a second grid row (blockIdx.y).
#define MATVEC_TOKENS 8
// Warps of an attention block and the largest head the attention kernels hold in registers (8 dims a lane).
#define ATTN_WARPS 8
#define MAX_HEAD_DIM 256

__device__ __forceinline__ float bf16_to_float(uint16_t b) {
    return __uint_as_float(((uint32_t) b) << 16);
}

// Round to nearest even, NaN kept quiet: the bit arithmetic of the CPU's Numbers.floatToBf16.
__device__ __forceinline__ uint16_t float_to_bf16(float f) {
    uint32_t bits = __float_as_uint(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t) ((bits >> 16) | 0x0040u);
    uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t) ((bits + rounding) >> 16);
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int offset = WARP / 2; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int offset = WARP / 2; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

// Block-wide sum (max); blockDim.x a multiple of 32, at most 1024. Every thread gets the result.
__device__ float block_sum(float v) {
    __shared__ float partial[WARP];
    int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    v = warp_sum(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    v = threadIdx.x < blockDim.x / WARP ? partial[threadIdx.x] : 0.0f;
    if (warp == 0) v = warp_sum(v);
    if (threadIdx.x == 0) partial[0] = v;
    __syncthreads();
    float total = partial[0];
    __syncthreads();
    return total;
}

__device__ float block_max(float v) {
    __shared__ float partial[WARP];
    int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    v = warp_max(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    v = threadIdx.x < blockDim.x / WARP ? partial[threadIdx.x] : -INFINITY;
    if (warp == 0) v = warp_max(v);
    if (threadIdx.x == 0) partial[0] = v;
    __syncthreads();
    float total = partial[0];
    __syncthreads();
    return total;
}

// ---------------------------------------------------------------- element-wise

// out[t, :] = x[t, :] / sqrt(mean(x[t, :]^2) + eps) * w (w as F32). Grid: tokens; block: 256.
extern "C" __global__ void rms_norm(const float* x, const float* w, float* out, int n, float eps) {
    const float* row = x + (size_t) blockIdx.x * n;
    float* dst = out + (size_t) blockIdx.x * n;
    float squares = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) squares += row[i] * row[i];
    float inverse = 1.0f / sqrtf(block_sum(squares) / n + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) dst[i] = row[i] * inverse * w[i];
}

// Rotate-half RoPE in place, as Backend.rope: head h of token t at x[offset + t*stride + h*head_dim], token t at
// position start_position + t. cos_table/sin_table are [position][head_dim/2], cos(p*inv_freq[i])*scaling as the
// CPU computes them from its RopeTable (uploaded once). Grid: tokens; block: 256, striding the heads*half pairs.
extern "C" __global__ void rope(float* x, const float* cos_table, const float* sin_table, int offset, int stride,
                                int heads, int head_dim, int start_position) {
    int half = head_dim / 2;
    int t = blockIdx.x;
    size_t angles = (size_t) (start_position + t) * half;
    float* token = x + offset + (size_t) t * stride;
    for (int j = threadIdx.x; j < heads * half; j += blockDim.x) {
        int h = j / half, i = j % half;
        float c = cos_table[angles + i], s = sin_table[angles + i];
        float* a = token + h * head_dim + i;
        float x0 = a[0], x1 = a[half];
        a[0] = x0 * c - x1 * s;
        a[half] = x1 * c + x0 * s;
    }
}

// out[t, c] = silu(gate_up[t, c]) * gate_up[t, n + c] for c < n, t < tokens. Grid: ceil(n*tokens / 256); block 256.
extern "C" __global__ void swiglu(const float* gate_up, float* out, int n, int tokens) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n * tokens) {
        int t = i / n, c = i % n;
        const float* row = gate_up + (size_t) t * 2 * n;
        float g = row[c];
        out[i] = g / (1.0f + expf(-g)) * row[n + c];
    }
}

// x[i] += delta[i]. Grid: ceil(n / 256); block: 256.
extern "C" __global__ void add(float* x, const float* delta, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += delta[i];
}

// out[t, :] = table[ids[t], :] as F32. Grid: tokens; block: 256.
extern "C" __global__ void embed_bf16(const uint16_t* table, const int* ids, float* out, int dim) {
    const uint16_t* row = table + (size_t) ids[blockIdx.x] * dim;
    float* dst = out + (size_t) blockIdx.x * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) dst[i] = bf16_to_float(row[i]);
}

extern "C" __global__ void embed_f32(const float* table, const int* ids, float* out, int dim) {
    const float* row = table + (size_t) ids[blockIdx.x] * dim;
    float* dst = out + (size_t) blockIdx.x * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) dst[i] = row[i];
}

// ---------------------------------------------------------------- matvec

// The end of a matvec warp: each of its n tokens' lane sums reduced across the warp, lane 0 storing
// y[t0 + t, row] (+ bias[row] when bias is not null).
__device__ __forceinline__ void store_row_sums(const float (&sum)[MATVEC_TOKENS], int n, int lane, const float* bias,
                                               float* y, int t0, int rows, int row) {
#pragma unroll
    for (int t = 0; t < MATVEC_TOKENS; t++) {
        if (t < n) {
            float v = warp_sum(sum[t]);
            if (lane == 0) y[(size_t) (t0 + t) * rows + row] = bias == nullptr ? v : v + bias[row];
        }
    }
}

// y[t, r] = W[r, :] . x[t, :] + bias[r] for bf16 W [rows][cols], x [tokens][cols], y [tokens][rows]; bias may be
// null. One warp per row, 8 warps a block; a block serves MATVEC_TOKENS rows of x from one read of its weights.
// Grid: (ceil(rows / 8), ceil(tokens / 8)); block 256. Lanes stride the row in 8-element (16-byte) loads when
// cols % 8 == 0, else element by element.
extern "C" __global__ void matvec_bf16(const uint16_t* w, const float* x, const float* bias, float* y,
                                       int rows, int cols, int tokens) {
    int row = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    int lane = threadIdx.x % WARP;
    int t0 = blockIdx.y * MATVEC_TOKENS;
    int n = min(MATVEC_TOKENS, tokens - t0);
    if (row >= rows) return;
    const uint16_t* r = w + (size_t) row * cols;
    const float* xt = x + (size_t) t0 * cols;
    float sum[MATVEC_TOKENS];
#pragma unroll
    for (int t = 0; t < MATVEC_TOKENS; t++) sum[t] = 0.0f;
    if (cols % 8 == 0) {
        const uint4* r8 = (const uint4*) r;
        for (int k = lane; k < cols / 8; k += WARP) {
            uint4 packed = r8[k];
            float wk[8] = {bf16_to_float(packed.x & 0xffff), bf16_to_float(packed.x >> 16),
                           bf16_to_float(packed.y & 0xffff), bf16_to_float(packed.y >> 16),
                           bf16_to_float(packed.z & 0xffff), bf16_to_float(packed.z >> 16),
                           bf16_to_float(packed.w & 0xffff), bf16_to_float(packed.w >> 16)};
#pragma unroll
            for (int t = 0; t < MATVEC_TOKENS; t++) {
                if (t < n) {
                    const float4* xk = (const float4*) (xt + (size_t) t * cols + k * 8);
                    float4 a = xk[0], b = xk[1];
                    sum[t] += wk[0] * a.x + wk[1] * a.y + wk[2] * a.z + wk[3] * a.w
                            + wk[4] * b.x + wk[5] * b.y + wk[6] * b.z + wk[7] * b.w;
                }
            }
        }
    } else {
        for (int k = lane; k < cols; k += WARP) {
            float wk = bf16_to_float(r[k]);
#pragma unroll
            for (int t = 0; t < MATVEC_TOKENS; t++) if (t < n) sum[t] += wk * xt[(size_t) t * cols + k];
        }
    }
    store_row_sums(sum, n, lane, bias, y, t0, rows, row);
}

// As matvec_bf16 for the quant module's Int8Matrix: int8 W [rows][cols] and F32 scales [rows][cols / group],
// W[r, k] = w[r, k] * scales[r, k / group] (group == cols: one scale a row). Each lane sums a run of weights inside
// one group and multiplies the run's sum by its scale. Lanes take 16-byte runs when cols % 16 == 0 and
// group % 16 == 0, else single elements. Grid and block as matvec_bf16.
extern "C" __global__ void matvec_int8(const int8_t* w, const float* scales, const float* x, const float* bias,
                                       float* y, int rows, int cols, int group, int tokens) {
    int row = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    int lane = threadIdx.x % WARP;
    int t0 = blockIdx.y * MATVEC_TOKENS;
    int n = min(MATVEC_TOKENS, tokens - t0);
    if (row >= rows) return;
    const int8_t* r = w + (size_t) row * cols;
    const float* s = scales + (size_t) row * (cols / group);
    const float* xt = x + (size_t) t0 * cols;
    float sum[MATVEC_TOKENS];
#pragma unroll
    for (int t = 0; t < MATVEC_TOKENS; t++) sum[t] = 0.0f;
    if (cols % 16 == 0 && group % 16 == 0) {
        const int4* r16 = (const int4*) r;
        for (int k = lane; k < cols / 16; k += WARP) {
            int4 packed = r16[k];
            const int8_t* b = (const int8_t*) &packed;
            float scale = s[k * 16 / group];
#pragma unroll
            for (int t = 0; t < MATVEC_TOKENS; t++) {
                if (t < n) {
                    const float4* xk = (const float4*) (xt + (size_t) t * cols + k * 16);
                    float run = 0.0f;
#pragma unroll
                    for (int q = 0; q < 4; q++) {
                        float4 a = xk[q];
                        run += (float) b[4 * q] * a.x + (float) b[4 * q + 1] * a.y + (float) b[4 * q + 2] * a.z
                             + (float) b[4 * q + 3] * a.w;
                    }
                    sum[t] += run * scale;
                }
            }
        }
    } else {
        for (int k = lane; k < cols; k += WARP) {
            float wk = (float) r[k] * s[k / group];
#pragma unroll
            for (int t = 0; t < MATVEC_TOKENS; t++) if (t < n) sum[t] += wk * xt[(size_t) t * cols + k];
        }
    }
    store_row_sums(sum, n, lane, bias, y, t0, rows, row);
}

// ---------------------------------------------------------------- paged KV cache

// Element index of dimension d, slot `slot` of head h's keys in pool page `page` (KvCacheLayer.keyIndex + slot).
__device__ __forceinline__ size_t key_index(int page, int pool_pages, int h, int head_dim, int d, int slot) {
    return (((size_t) h * pool_pages + page) * head_dim + d) * PAGE + slot;
}

// Element index of slot `slot`, dimension d of head h's values in pool page `page` (KvCacheLayer.valueIndex + d).
__device__ __forceinline__ size_t value_index(int page, int pool_pages, int h, int head_dim, int slot, int d) {
    return (((size_t) h * pool_pages + page) * PAGE + slot) * head_dim + d;
}

// Float index of head h, slot `slot` of pool page `page` in the I8 scale arrays (KvCacheLayer.scaleIndex).
__device__ __forceinline__ size_t scale_index(int page, int pool_pages, int h, int slot) {
    return ((size_t) h * pool_pages + page) * PAGE + slot;
}

__device__ __forceinline__ void store(float* p, size_t i, float v) { p[i] = v; }
__device__ __forceinline__ void store(uint16_t* p, size_t i, float v) { p[i] = float_to_bf16(v); }
__device__ __forceinline__ float load(const float* p, size_t i) { return p[i]; }
__device__ __forceinline__ float load(const uint16_t* p, size_t i) { return bf16_to_float(p[i]); }
__device__ __forceinline__ float load(const int8_t* p, size_t i) { return (float) p[i]; }

// Keys and values of `tokens` tokens into the paged cache at positions start_position.., as Backend.storeKv: token
// t's keys at src[k_offset + t*stride + h*head_dim], its values at v_offset likewise. Grid: (tokens, kv_heads);
// block: 128, striding head_dim.
template <typename T>
__device__ void store_kv(const float* src, int k_offset, int v_offset, int stride, T* keys, T* values,
                         const int* page_table, int kv_heads, int pool_pages, int head_dim, int start_position) {
    int t = blockIdx.x, h = blockIdx.y;
    int position = start_position + t;
    int page = page_table[position >> PAGE_SHIFT];
    int slot = position & (PAGE - 1);
    const float* k = src + k_offset + (size_t) t * stride + h * head_dim;
    const float* v = src + v_offset + (size_t) t * stride + h * head_dim;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        store(keys, key_index(page, pool_pages, h, head_dim, d, slot), k[d]);
        store(values, value_index(page, pool_pages, h, head_dim, slot, d), v[d]);
    }
}

extern "C" __global__ void store_kv_f32(const float* src, int k_offset, int v_offset, int stride, float* keys,
                                        float* values, const int* page_table, int kv_heads, int pool_pages,
                                        int head_dim, int start_position) {
    store_kv(src, k_offset, v_offset, stride, keys, values, page_table, kv_heads, pool_pages, head_dim, start_position);
}

extern "C" __global__ void store_kv_bf16(const float* src, int k_offset, int v_offset, int stride, uint16_t* keys,
                                         uint16_t* values, const int* page_table, int kv_heads, int pool_pages,
                                         int head_dim, int start_position) {
    store_kv(src, k_offset, v_offset, stride, keys, values, page_table, kv_heads, pool_pages, head_dim, start_position);
}

// KvStore's I8: s = max|x| / 127 per head and position, stored beside; q = clamp(round(x / s), -127, 127), 0 when
// s == 0. round is Java's Math.round (floor(x + 0.5)). Grid and block as store_kv_f32.
__device__ int8_t quantize(float value, float scale) {
    int q = scale == 0.0f ? 0 : (int) floorf(value / scale + 0.5f);
    return (int8_t) max(-127, min(127, q));
}

extern "C" __global__ void store_kv_i8(const float* src, int k_offset, int v_offset, int stride, int8_t* keys,
                                       int8_t* values, float* key_scales, float* value_scales, const int* page_table,
                                       int kv_heads, int pool_pages, int head_dim, int start_position) {
    int t = blockIdx.x, h = blockIdx.y;
    int position = start_position + t;
    int page = page_table[position >> PAGE_SHIFT];
    int slot = position & (PAGE - 1);
    const float* k = src + k_offset + (size_t) t * stride + h * head_dim;
    const float* v = src + v_offset + (size_t) t * stride + h * head_dim;
    float kmax = 0.0f, vmax = 0.0f;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        kmax = fmaxf(kmax, fabsf(k[d]));
        vmax = fmaxf(vmax, fabsf(v[d]));
    }
    float kscale = block_max(kmax) / 127.0f, vscale = block_max(vmax) / 127.0f;
    if (threadIdx.x == 0) {
        key_scales[scale_index(page, pool_pages, h, slot)] = kscale;
        value_scales[scale_index(page, pool_pages, h, slot)] = vscale;
    }
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        keys[key_index(page, pool_pages, h, head_dim, d, slot)] = quantize(k[d], kscale);
        values[value_index(page, pool_pages, h, head_dim, slot, d)] = quantize(v[d], vscale);
    }
}

// Causal grouped-query attention over the paged cache, as Backend.attention, for decode (tokens == 1) and prefill
// alike. Query head h of token t at q[q_offset + t*q_stride + h*head_dim], position hi = start_position + t, reads
// KV head h / (heads / kv_heads) at positions lo..hi, lo = window > 0 ? max(0, hi - window + 1) : 0; scores are
// scale * q.k (scale = headDim^-0.5 from the host, as the CPU rounds it); out[(t*heads + h)*head_dim ..].
// Grid: (heads, tokens); block: ATTN_WARPS * 32 = 256. Warp w takes pages lo/PAGE + w, + 8, ...: lane s scores slot
// s (a transposed key row of one dimension is 32 consecutive slots: one coalesced load), the warp keeps an online
// softmax (m, l) and lane-owned output dimensions d = lane + 32j; the warps' states merge in shared memory.
// head_dim <= MAX_HEAD_DIM. Scales (I8 only) may be null for F32 and BF16.
template <typename T>
__device__ void attention(const float* q, int q_offset, int q_stride, int heads, const T* keys, const T* values,
                          const float* key_scales, const float* value_scales, const int* page_table, int kv_heads,
                          int pool_pages, int head_dim, int start_position, int window, float scale, float* out) {
    __shared__ float qs[MAX_HEAD_DIM];
    __shared__ float warp_m[ATTN_WARPS], warp_l[ATTN_WARPS];
    __shared__ float warp_acc[ATTN_WARPS][MAX_HEAD_DIM];
    int h = blockIdx.x, t = blockIdx.y;
    int kv = h / (heads / kv_heads);
    int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    int hi = start_position + t;
    int lo = window > 0 ? max(0, hi - window + 1) : 0;
    const float* qh = q + q_offset + (size_t) t * q_stride + h * head_dim;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) qs[d] = qh[d];
    __syncthreads();
    float m = -INFINITY, l = 0.0f;
    float acc[MAX_HEAD_DIM / WARP];
#pragma unroll
    for (int j = 0; j < MAX_HEAD_DIM / WARP; j++) acc[j] = 0.0f;
    for (int p = lo / PAGE + warp; p <= hi / PAGE; p += ATTN_WARPS) {
        int page = page_table[p];
        int position = p * PAGE + lane;
        float score = -INFINITY;
        if (position >= lo && position <= hi) {
            float dot = 0.0f;
            for (int d = 0; d < head_dim; d++) {
                dot += qs[d] * load(keys, key_index(page, pool_pages, kv, head_dim, d, lane));
            }
            if (key_scales != nullptr) dot *= key_scales[scale_index(page, pool_pages, kv, lane)];
            score = dot * scale;
        }
        float page_max = warp_max(score);           // finite: every page from lo/PAGE to hi/PAGE has a visible slot
        float new_max = fmaxf(m, page_max);
        float correction = expf(m - new_max);       // 0 for the warp's first page
        float e = expf(score - new_max);            // 0 for a slot out of reach
        l = l * correction + warp_sum(e);
        float weight = value_scales != nullptr ? e * value_scales[scale_index(page, pool_pages, kv, lane)] : e;
#pragma unroll
        for (int j = 0; j < MAX_HEAD_DIM / WARP; j++) acc[j] *= correction;
        for (int s = 0; s < PAGE; s++) {
            float ws = __shfl_sync(0xffffffffu, weight, s);
            if (ws != 0.0f) {
#pragma unroll
                for (int j = 0; j < MAX_HEAD_DIM / WARP; j++) {
                    int d = lane + j * WARP;
                    if (d < head_dim) acc[j] += ws * load(values, value_index(page, pool_pages, kv, head_dim, s, d));
                }
            }
        }
        m = new_max;
    }
    if (lane == 0) { warp_m[warp] = m; warp_l[warp] = l; }
#pragma unroll
    for (int j = 0; j < MAX_HEAD_DIM / WARP; j++) {
        int d = lane + j * WARP;
        if (d < head_dim) warp_acc[warp][d] = acc[j];
    }
    __syncthreads();
    float max_all = -INFINITY;
    for (int w = 0; w < ATTN_WARPS; w++) max_all = fmaxf(max_all, warp_m[w]);
    float sum = 0.0f;
    for (int w = 0; w < ATTN_WARPS; w++) if (warp_m[w] != -INFINITY) sum += expf(warp_m[w] - max_all) * warp_l[w];
    float* o = out + ((size_t) t * heads + h) * head_dim;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float v = 0.0f;
        for (int w = 0; w < ATTN_WARPS; w++) if (warp_m[w] != -INFINITY) v += expf(warp_m[w] - max_all) * warp_acc[w][d];
        o[d] = v / sum;
    }
}

extern "C" __global__ void attention_f32(const float* q, int q_offset, int q_stride, int heads, const float* keys,
                                         const float* values, const int* page_table, int kv_heads, int pool_pages,
                                         int head_dim, int start_position, int window, float scale, float* out) {
    attention(q, q_offset, q_stride, heads, keys, values, (const float*) nullptr, (const float*) nullptr, page_table,
              kv_heads, pool_pages, head_dim, start_position, window, scale, out);
}

extern "C" __global__ void attention_bf16(const float* q, int q_offset, int q_stride, int heads,
                                          const uint16_t* keys, const uint16_t* values, const int* page_table,
                                          int kv_heads, int pool_pages, int head_dim, int start_position, int window,
                                          float scale, float* out) {
    attention(q, q_offset, q_stride, heads, keys, values, (const float*) nullptr, (const float*) nullptr, page_table,
              kv_heads, pool_pages, head_dim, start_position, window, scale, out);
}

extern "C" __global__ void attention_i8(const float* q, int q_offset, int q_stride, int heads, const int8_t* keys,
                                        const int8_t* values, const float* key_scales, const float* value_scales,
                                        const int* page_table, int kv_heads, int pool_pages, int head_dim,
                                        int start_position, int window, float scale, float* out) {
    attention(q, q_offset, q_stride, heads, keys, values, key_scales, value_scales, page_table, kv_heads, pool_pages,
              head_dim, start_position, window, scale, out);
}

// ---------------------------------------------------------------- sampling

// The index of the largest of n floats (the first on ties, as torch.argmax), into *result. Grid: 1; block: 1024.
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

// The sampler's hot path, after penalties (applied on the host or not at all): logits[i] /= temperature in place
// (skipped when temperature == 1, as the CPU Sampler does), then result[0] = max, result[1] = sum of
// exp(logit - max), so log p(i) = logit[i] - result[0] - log(result[1]) and the host reads back two floats (plus
// the scaled logits only when it filters with top-k/top-p). Grid: 1; block: 1024.
extern "C" __global__ void softmax_stats(float* logits, int n, float temperature, float* result) {
    float max = -INFINITY;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = temperature != 1.0f ? logits[i] / temperature : logits[i];
        logits[i] = v;
        max = fmaxf(max, v);
    }
    max = block_max(max);
    float sum = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) sum += expf(logits[i] - max);
    sum = block_sum(sum);
    if (threadIdx.x == 0) { result[0] = max; result[1] = sum; }
}

// Activations rounded to bf16 (nearest even, as float_to_bf16) for cuBLAS's bf16 GEMM. Grid: ceil(n / 256); block: 256.
extern "C" __global__ void to_bf16(const float* x, uint16_t* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = float_to_bf16(x[i]);
}

// y[t, r] += bias[r] for n = tokens * rows elements of row-major y (after cuBLAS). Grid: ceil(n / 256); block: 256.
extern "C" __global__ void add_bias(float* y, const float* bias, int rows, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] += bias[i % rows];
}
