#!/bin/bash
# Decode after N tokens of context and prefill of those N, qwen2j (f32, bf16 and int8 KV cache) beside llama.cpp's
# llama-batched-bench at the same depth, alternating so that every ratio comes from the same minutes.
#   scripts/depth-window.sh BF16_DIR INT8_DIR BF16.gguf Q8_0.gguf [DEPTH ...]   (default depths: 128 4096 16384)
# BF16_DIR from `./qwen2j synth`, INT8_DIR from `./qwen2j quantize`, the GGUFs as scripts/gguf_q8_0.py and
# llama.cpp's to_gguf.py write them. LLAMA=path/to/llama.cpp (default ../shared/peers/llama.cpp).
set -euo pipefail
[ $# -ge 4 ] || { sed -n 2,6p "$0"; exit 2; }
bf16=$1 int8=$2 bf16_gguf=$3 q8_gguf=$4; shift 4
depths=${*:-128 4096 16384}
cd "$(dirname "$0")/.."
bin=${LLAMA:-../shared/peers/llama.cpp}/bin
export LD_LIBRARY_PATH=$bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
ours() { # model kv depth
  ./qwen2j bench --model "$1" --context "$3" --gen-tokens 32 --runs 2 --warmup 1 --kv-cache "$2" 2>/dev/null \
    | grep '^{' | python3 -c "import json,sys; d=json.load(sys.stdin); print('qwen2j', '$1', 'kv=$2', 'depth=$3', 'prefill_tok_s', d['prefill_tok_s'], 'decode_tok_s', d['decode_tok_s'])"
}
peer() { # gguf depth
  "$bin/llama-batched-bench" -m "$1" -t 2 -c $(( $2 + 64 )) -b 2048 -ub 512 -npp "$2" -ntg 32 -npl 1 2>/dev/null \
    | grep '^|' | tail -1 | awk -v m="$1" -v d="$2" -F'|' '{print "llama.cpp", m, "depth=" d, "S_PP", $7, "S_TG", $9}'
}
date; uptime
for depth in $depths; do
  ours "$int8" f32 "$depth"; ours "$int8" bf16 "$depth"; ours "$int8" int8 "$depth"; peer "$q8_gguf" "$depth"
  ours "$bf16" f32 "$depth"; ours "$bf16" bf16 "$depth"; ours "$bf16" int8 "$depth"; peer "$bf16_gguf" "$depth"
done
date
