# Golden log-probabilities for NumpyReferenceSuiteTest: a float64 NumPy reimplementation of transformers' Qwen2
# (modeling_qwen2, eager attention, DynamicCache) run on the checkpoints NumpyReferenceCases writes.
#
#   ./build mvn -q -pl model -am test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
#   java --add-modules jdk.incubator.vector -cp "$(cat /tmp/cp.txt):core/target/classes:tensor/target/classes:\
#       quant/target/classes:model/target/classes:model/target/test-classes" \
#       dev.qwen2j.model.NumpyReferenceCases /tmp/numpy-cases
#   python3 make_suite.py /tmp/numpy-cases/cases.json suite.json
#
# What follows transformers exactly, because it decides the numbers:
# - RoPE tables as modeling_rope_utils computes them in torch float32: inv_freq = 1 / base ** (arange(0, d, 2) / d)
#   in F32 (the base rounded to F32), linear divides it by the factor, dynamic NTK recomputes the base (in Python
#   floats) from seq_len = max(position_ids) + 1 whenever that exceeds max_position_embeddings and every longer
#   seq_len so far (dynamic_rope_update), YaRN blends interpolation and extrapolation with the F32 ramp and scales
#   cos/sin by its attention factor. The angle position * inv_freq is an F32 product, as Qwen2RotaryEmbedding's
#   float32 matmul; cos and sin of that angle are then taken in float64.
# - With a cache, a forward over new tokens rotates only their queries and keys, with the table of that forward;
#   cached keys keep the rotation they were stored with.
# - Sliding window: layer i slides when use_sliding_window and i >= max_window_layers; a query at q sees keys
#   kv with q - window < kv <= q (masking_utils.sliding_window_overlay).
# - BF16 KV cache (qwen2j's option, not transformers'): keys after RoPE and values are rounded to bfloat16
#   (round to nearest even) when stored, as qwen2j stores them.
# Everything else is float64.
import json, math, struct, sys
import numpy as np

TOP = 2          # most likely tokens compared at each position, besides the next id and two fixed ids


def load(folder):
    raw = open(folder + "/model.safetensors", "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    base = 8 + n

    def tensor(name):
        h = header[name]
        a, b = h["data_offsets"]
        buf = raw[base + a:base + b]
        if h["dtype"] == "F32":
            v = np.frombuffer(buf, np.float32)
        elif h["dtype"] == "F16":
            v = np.frombuffer(buf, np.float16)
        else:
            v = (np.frombuffer(buf, np.uint16).astype(np.uint32) << 16).view(np.float32)
        return v.reshape(h["shape"]).astype(np.float64)

    weights = {name: tensor(name) for name in header if name != "__metadata__"}
    return json.load(open(folder + "/config.json")), weights


def default_inv_freq(base, dim):
    exponent = np.arange(0, dim, 2, dtype=np.float32) / np.float32(dim)
    pos_freqs = (np.float64(np.float32(base)) ** exponent.astype(np.float64)).astype(np.float32)
    return pos_freqs, np.float32(1) / pos_freqs


class Rope:
    """Qwen2RotaryEmbedding with transformers' rope_init_fn and dynamic_rope_update."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.dim = cfg["hidden_size"] // cfg["num_attention_heads"]
        self.max_pos = cfg["max_position_embeddings"]
        scaling = cfg.get("rope_scaling") or {}
        self.type = scaling.get("rope_type", scaling.get("type", "default"))
        self.scaling = scaling
        self.cached_len = self.max_pos
        self.inv_freq, self.attention = self.init(None)

    def init(self, seq_len):
        theta, dim, s = self.cfg["rope_theta"], self.dim, self.scaling
        if self.type == "default":
            return default_inv_freq(theta, dim)[1], 1.0
        if self.type == "linear":
            return default_inv_freq(theta, dim)[1] / np.float32(s["factor"]), 1.0
        if self.type == "dynamic":
            factor = s["factor"]
            seq_len = self.max_pos if seq_len is None else max(seq_len, self.max_pos)
            base = theta * ((factor * seq_len / self.max_pos) - (factor - 1)) ** (dim / (dim - 2))
            return default_inv_freq(base, dim)[1], 1.0
        if self.type == "yarn":
            factor = s["factor"]
            original = s.get("original_max_position_embeddings") or self.max_pos
            attention = s.get("attention_factor")
            mscale, mscale_all_dim = s.get("mscale"), s.get("mscale_all_dim")

            def get_mscale(scale, m=1):
                return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0
            if attention is None:
                attention = (get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim)
                             if mscale and mscale_all_dim else get_mscale(factor))
            beta_fast = s.get("beta_fast") or 32
            beta_slow = s.get("beta_slow") or 1

            def correction_dim(rotations):
                return (dim * math.log(original / (rotations * 2 * math.pi))) / (2 * math.log(theta))
            low = max(math.floor(correction_dim(beta_fast)), 0)
            high = min(math.ceil(correction_dim(beta_slow)), dim - 1)
            if low == high:
                high += 0.001
            pos_freqs, extrapolation = default_inv_freq(theta, dim)
            interpolation = np.float32(1) / (np.float32(factor) * pos_freqs)
            ramp = np.clip((np.arange(dim // 2, dtype=np.float32) - np.float32(low)) / np.float32(high - low),
                           np.float32(0), np.float32(1))
            extrapolation_factor = np.float32(1) - ramp
            inv = interpolation * (np.float32(1) - extrapolation_factor) + extrapolation * extrapolation_factor
            return inv.astype(np.float32), attention
        raise ValueError("rope type " + self.type)

    def cos_sin(self, positions):
        if self.type == "dynamic":
            seq_len = int(positions.max()) + 1
            if seq_len > self.cached_len:
                self.inv_freq, self.attention = self.init(seq_len)
                self.cached_len = seq_len
        angle = (positions.astype(np.float32)[:, None] * self.inv_freq[None, :]).astype(np.float64)
        angle = np.concatenate([angle, angle], 1)
        attention = np.float64(np.float32(self.attention))
        return np.cos(angle) * attention, np.sin(angle) * attention


def bf16(v):
    bits = v.astype(np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32).astype(np.float64)


class Reference:
    def __init__(self, folder, kv_cache):
        self.cfg, self.w = load(folder)
        c = self.cfg
        self.H, self.NH, self.KV = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        self.hd = self.H // self.NH
        self.L, self.eps = c["num_hidden_layers"], c["rms_norm_eps"]
        window = c["sliding_window"] if c.get("use_sliding_window") else None
        self.windows = [window if window is not None and i >= c["max_window_layers"] else None
                        for i in range(self.L)]
        self.store = bf16 if kv_cache == "BF16" else (lambda v: v)
        self.lm_head = self.w.get("lm_head.weight", self.w["model.embed_tokens.weight"])

    def rms(self, v, weight):
        return v / np.sqrt((v * v).mean(-1, keepdims=True) + self.eps) * weight

    def generate(self, ids, prefill, end):
        """Log-probabilities after ids[:prefill] (one forward) and after each of ids[prefill:end] (one each)."""
        rope = Rope(self.cfg)
        cache = [([], []) for _ in range(self.L)]
        out = [self.forward(ids[:prefill], 0, rope, cache)]
        for p in range(prefill, end):
            out.append(self.forward(ids[p:p + 1], p, rope, cache))
        return out

    def forward(self, ids, start, rope, cache):
        w, S, hd = self.w, len(ids), self.hd
        positions = np.arange(start, start + S)
        cos, sin = rope.cos_sin(positions)

        def rotate(v):
            half = hd // 2
            return v * cos[:, None, :] + np.concatenate([-v[..., half:], v[..., :half]], -1) * sin[:, None, :]

        x = w["model.embed_tokens.weight"][ids]
        for l in range(self.L):
            p = f"model.layers.{l}."
            h = self.rms(x, w[p + "input_layernorm.weight"])
            q = (h @ w[p + "self_attn.q_proj.weight"].T + w[p + "self_attn.q_proj.bias"]).reshape(S, self.NH, hd)
            k = (h @ w[p + "self_attn.k_proj.weight"].T + w[p + "self_attn.k_proj.bias"]).reshape(S, self.KV, hd)
            v = (h @ w[p + "self_attn.v_proj.weight"].T + w[p + "self_attn.v_proj.bias"]).reshape(S, self.KV, hd)
            q, k = rotate(q), rotate(k)
            keys, values = cache[l]
            keys.append(self.store(k))
            values.append(self.store(v))
            K, V = np.concatenate(keys, 0), np.concatenate(values, 0)
            T = K.shape[0]
            kv_pos = np.arange(T)
            visible = kv_pos[None, :] <= positions[:, None]
            if self.windows[l] is not None:
                visible &= kv_pos[None, :] > positions[:, None] - self.windows[l]
            attention = np.zeros((S, self.NH, hd))
            for head in range(self.NH):
                kh = head // (self.NH // self.KV)
                scores = q[:, head, :] @ K[:, kh, :].T / math.sqrt(hd)
                scores = np.where(visible, scores, -np.inf)
                scores = np.exp(scores - scores.max(1, keepdims=True))
                scores /= scores.sum(1, keepdims=True)
                attention[:, head, :] = scores @ V[:, kh, :]
            x = x + attention.reshape(S, self.NH * hd) @ w[p + "self_attn.o_proj.weight"].T
            h = self.rms(x, w[p + "post_attention_layernorm.weight"])
            g, u = h @ w[p + "mlp.gate_proj.weight"].T, h @ w[p + "mlp.up_proj.weight"].T
            x = x + ((g / (1 + np.exp(-g))) * u) @ w[p + "mlp.down_proj.weight"].T
        logits = self.lm_head @ self.rms(x[-1], w["model.norm.weight"])
        shifted = logits - logits.max()
        return shifted - math.log(np.exp(shifted).sum())


def main():
    cases = json.load(open(sys.argv[1]))
    out = []
    for c in cases:
        ref = Reference(c["folder"], c["kv_cache"])
        ids = c["ids"]
        vocab = ref.cfg["vocab_size"]
        runs = []
        for r in c["runs"]:
            positions = []
            for j, lp in enumerate(ref.generate(ids, r["prefill"], r["end"])):
                position = r["prefill"] - 1 + j
                chosen = set(int(t) for t in np.argsort(-lp)[:TOP]) | {0, vocab - 1}
                if position + 1 < len(ids):
                    chosen.add(ids[position + 1])
                tokens = sorted(chosen)
                positions.append({"tokens": tokens, "log_probs": [float(lp[t]) for t in tokens]})
            runs.append({"prefill": r["prefill"], "end": r["end"], "positions": positions})
        out.append({"name": c["name"], "kv_cache": c["kv_cache"], "ids": ids, "runs": runs})
        print(c["name"], "done", file=sys.stderr)
    json.dump(out, open(sys.argv[2], "w"), separators=(",", ":"))


if __name__ == "__main__":
    main()
