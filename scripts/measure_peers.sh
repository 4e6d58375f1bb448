#!/usr/bin/env bash
# The session's side-by-side measurements against llama.cpp, one quiet run (nothing else running; check uptime).
#   scripts/measure_peers.sh [MODEL_DIR] [PEER_DIR]   (default: /tmp/q05b, ../shared/peers/llama.cpp)
# Writes the 0.5B-shape random model and its BF16/Q8_0 GGUFs when missing, then prints, in this order:
# bf16/int8 decode and prefill beside llama-bench BF16/Q8_0; batch 8 beside llama-batched-bench; decode at 128 and
# 4,096 tokens of context beside llama-batched-bench; Spark local[2] against a single-JVM loop; serve beside
# llama-server under 1, 8 and 32 streaming clients.
set -u
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
M=${1:-/tmp/q05b}
P=${2:-../shared/peers/llama.cpp}
[ -d "$M" ] || ./qwen2j synth --shape qwen2.5-0.5b --out "$M"
[ -f "$M.bf16.gguf" ] || python3 "$P/to_gguf.py" "$M" "$M.bf16.gguf" > /dev/null
[ -f "$M.q8_0.gguf" ] || python3 scripts/gguf_q8_0.py "$M" "$M.q8_0.gguf" "$P" > /dev/null
B="./qwen2j bench --model $M --threads 2"
echo "== start $(date -u +%T) $(uptime)"
echo "-- qwen2j bf16, int8 (128/64)"
$B --prompt-tokens 128 --gen-tokens 64 --warmup 1 --runs 3 2>/dev/null | tail -1
$B --quantize int8 --prompt-tokens 128 --gen-tokens 64 --warmup 1 --runs 3 2>/dev/null | tail -1
echo "-- llama.cpp bf16, q8_0 (128/64)"
$P/bin/llama-bench -m "$M.bf16.gguf,$M.q8_0.gguf" -t 2 -p 128 -n 64 -r 3 -o json 2>/dev/null | python3 -c \
  "import json,sys; [print(r['model_type'], 'pp' if r['n_prompt'] else 'tg', round(r['avg_ts'],2)) for r in json.load(sys.stdin)]"
echo "-- qwen2j batch 8"; $B --batch 8 --prompt-tokens 128 --gen-tokens 64 --warmup 1 --runs 3 2>/dev/null | tail -1
echo "-- llama.cpp batched 1,8"
$P/bin/llama-batched-bench -m "$M.bf16.gguf" -t 2 -c 2048 -b 2048 -ub 512 -npp 128 -ntg 64 -npl 1,8 2>&1 | grep -E "^\|"
echo "-- qwen2j depth 128, 4096 (F32 KV)"
for c in 128 4096; do $B --context $c --gen-tokens 32 --warmup 1 --runs 3 2>/dev/null | tail -1; done
echo "-- llama.cpp depth 4096, 128"
$P/bin/llama-batched-bench -m "$M.bf16.gguf" -t 2 -c 4352 -b 2048 -ub 512 -npp 4096 -ntg 32 -npl 1 2>&1 | grep -E "^\|"
$P/bin/llama-batched-bench -m "$M.bf16.gguf" -t 2 -c 512 -b 2048 -ub 512 -npp 128 -ntg 32 -npl 1 2>&1 | grep -E "^\|"
echo "-- spark local[2] vs loop"; bash scripts/spark_vs_loop.sh --problems 50 --samples 4 2>&1 | tail -4
echo "-- serve vs llama-server"
./qwen2j serve --model "$M" --threads 2 --max-batch 8 --context 2048 --port 18080 --name q05b > /tmp/qwen2j-serve.log 2>&1 &
server=$!
for _ in $(seq 90); do curl -s http://127.0.0.1:18080/health > /dev/null && break; sleep 1; done
for c in 1 8 32; do python3 scripts/serve_load.py --url http://127.0.0.1:18080 --model q05b --clients $c --seconds 30 --max-tokens 64; done
kill $server; wait $server 2>/dev/null
$P/bin/llama-server -m "$M.bf16.gguf" -t 2 -c 4096 --parallel 8 --port 18081 > /tmp/llama-server.log 2>&1 &
server=$!
for _ in $(seq 90); do curl -s http://127.0.0.1:18081/health | grep -q ok && break; sleep 1; done
for c in 1 8 32; do python3 scripts/serve_load.py --url http://127.0.0.1:18081 --model q05b --clients $c --seconds 30 --max-tokens 64; done
kill $server; wait $server 2>/dev/null
echo "== end $(date -u +%T) $(uptime)"
