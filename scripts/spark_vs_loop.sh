#!/usr/bin/env bash
# Problems/s and tokens/s of `qwen2j batch --master local[N]` against a single-JVM loop over the same problems
# (dev.qwen2j.examples.BatchLoop: the same per-sample options and seeds, one generate after another, no Spark).
# Prints both and their ratio, for the generation stage (from the model's load on; Spark already up) and for the
# whole process (JVM and Spark start included).
#   scripts/spark_vs_loop.sh [--model demo] [--input FILE | --problems 50] [--samples 4] [--master 'local[2]']
#                            [--temperature 1] [--max-tokens 64] [--thinking-budget 0] [--threads 0] [--batch 16]
# Without --input it writes that many sums "What is a+b?" (the demo model's task). Builds on first use, as ./qwen2j.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
model=demo input="" problems=50 samples=4 master="local[2]" temperature=1 max_tokens=64 budget=0 threads=0 batch=16
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2 ;; --input) input=$2 ;; --problems) problems=$2 ;; --samples) samples=$2 ;;
    --master) master=$2 ;; --temperature) temperature=$2 ;; --max-tokens) max_tokens=$2 ;;
    --thinking-budget) budget=$2 ;; --threads) threads=$2 ;; --batch) batch=$2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "spark_vs_loop: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift 2
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$input" ]; then
  input=$work/problems.jsonl
  RANDOM=14
  for ((i = 0; i < problems; i++)); do
    a=$((RANDOM % 1000)) b=$((RANDOM % 1000))
    echo "{\"id\":\"p$i\",\"prompt\":\"What is $a+$b?\",\"answer\":\"$((a + b))\"}"
  done >"$input"
fi
common=(--model "$model" --input "$input" --samples "$samples" --temperature "$temperature" --max-tokens "$max_tokens"
        --thinking-budget "$budget" --seed 7 --threads "$threads")
now() { date +%s.%N; }

start=$(now)
"$root/qwen2j" batch "${common[@]}" --output "$work/out" --format jsonl --master "$master" --batch "$batch" \
  >"$work/spark.log" 2>&1 || { cat "$work/spark.log" >&2; exit 1; }
spark_wall="$start $(now)"

source "$root/scripts/jdk.sh"
qwen2j_find_jdk
start=$(now)
"$JAVA_HOME/bin/java" "${QWEN2J_JVM_FLAGS[@]}" -cp "$root/examples/target/qwen2j-examples-0.1.0-SNAPSHOT.jar:$root/examples/target/lib/*" \
  dev.qwen2j.examples.BatchLoop "${common[@]}" >"$work/loop.json" 2>"$work/loop.log" || { cat "$work/loop.log" >&2; exit 1; }
loop_wall="$start $(now)"

python3 - "$work" "$master" "$spark_wall" "$loop_wall" <<'PY'
import glob, json, sys
work, master = sys.argv[1], sys.argv[2]
spark_wall, loop_wall = (float(b) - float(a) for a, b in (w.split() for w in sys.argv[3:5]))
summary = json.load(open(f"{work}/out/summary.json"))
tokens = sum(json.loads(l)["tokens"] for f in glob.glob(f"{work}/out/rows/*.jsonl") for l in open(f) if l.strip())
spark_seconds = tokens / summary["tokens_per_second"]  # the job's generation stage (its tasks load the model), wall clock
loop = json.load(open(f"{work}/loop.json"))
rows = [
    (f"spark {master}", summary["problems"], summary["samples"], tokens, spark_seconds, spark_wall),
    ("single-JVM loop", loop["problems"], loop["samples"], loop["tokens"], loop["seconds"], loop_wall),
]
print(f"{'':18} {'problems':>8} {'samples':>8} {'tokens':>8} {'gen s':>8} {'problems/s':>10} {'tokens/s':>9} {'wall s':>7} {'problems/s (wall)':>17}")
for name, p, s, t, sec, wall in rows:
    print(f"{name:18} {p:8d} {s:8d} {t:8d} {sec:8.2f} {p / sec:10.3f} {t / sec:9.1f} {wall:7.1f} {p / wall:17.3f}")
(_, sp, _, st, ss, sw), (_, lp, _, lt, ls, lw) = rows
print(f"ratio spark/loop: problems/s {(sp / ss) / (lp / ls):.2f}x, tokens/s {(st / ss) / (lt / ls):.2f}x "
      f"(generation stage); problems/s {(sp / sw) / (lp / lw):.2f}x (whole process, with JVM, Spark and model start)")
PY
