// qwen2j's CUDA kernels: the Qwen2 forward pass for one token (decode) on device-resident activations and a
// device KV cache laid out [kv_head][position][head_dim]. Compiled to PTX for sm_90 (scripts/build-ptx.sh);
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

// Keys and values of one token into the cache at `position`. Grid: kv_heads; block: head_dim (<= 1024).
extern "C" __global__ void store_kv(const float* k, const float* v, float* k_cache, float* v_cache,
                                    int head_dim, int capacity, int position) {
    size_t dst = ((size_t) blockIdx.x * capacity + position) * head_dim + threadIdx.x;
    k_cache[dst] = k[blockIdx.x * head_dim + threadIdx.x];
    v_cache[dst] = v[blockIdx.x * head_dim + threadIdx.x];
}

// One token's grouped-query attention over positions [first, last] of the cache. Grid: heads; block: 256
// threads; dynamic shared memory (last - first + 1) floats of scores. Query head h reads KV head
// h / (heads / kv_heads); scores are scale * q.k, softmax subtracts the max.
extern "C" __global__ void attention_decode(const float* q, const float* k_cache, const float* v_cache, float* out,
                                            int heads, int kv_heads, int head_dim, int capacity, int first,
                                            int last, float scale) {
    extern __shared__ float scores[];
    int h = blockIdx.x;
    int kv = h / (heads / kv_heads);
    const float* qh = q + (size_t) h * head_dim;
    const float* keys = k_cache + (size_t) kv * capacity * head_dim;
    const float* values = v_cache + (size_t) kv * capacity * head_dim;
    int n = last - first + 1;
    int lane = threadIdx.x % WARP;
    int warp = threadIdx.x / WARP;
    int warps = blockDim.x / WARP;
    for (int p = warp; p < n; p += warps) {           // a warp per position, lanes over the head dimension
        const float* kp = keys + (size_t) (first + p) * head_dim;
        float dot = 0.0f;
        for (int d = lane; d < head_dim; d += WARP) dot += qh[d] * kp[d];
        dot = warp_sum(dot);
        if (lane == 0) scores[p] = dot * scale;
    }
    __syncthreads();
    float max = -INFINITY;
    for (int p = threadIdx.x; p < n; p += blockDim.x) max = fmaxf(max, scores[p]);
    __shared__ float reduce[WARP];
    max = warp_max(max);
    if (lane == 0) reduce[warp] = max;
    __syncthreads();
    max = threadIdx.x < warps ? reduce[threadIdx.x] : -INFINITY;
    if (warp == 0) max = warp_max(max);
    if (threadIdx.x == 0) reduce[0] = max;
    __syncthreads();
    max = reduce[0];
    __syncthreads();
    float sum = 0.0f;
    for (int p = threadIdx.x; p < n; p += blockDim.x) {
        float e = __expf(scores[p] - max);
        scores[p] = e;
        sum += e;
    }
    float inverse = 1.0f / block_sum(sum);
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) { // a thread per output dimension
        float acc = 0.0f;
        for (int p = 0; p < n; p++) acc += scores[p] * values[(size_t) (first + p) * head_dim + d];
        out[(size_t) h * head_dim + d] = acc * inverse;
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
