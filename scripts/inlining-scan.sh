#!/bin/bash
# Runs `qwen2j bench` over the weight / KV-cache / batch / vector-width cases with -XX:+PrintInlining and fails when C2
# refused to inline a kernel helper that takes or returns a vector: such a call boxes its vectors, and the kernel
# runs 1.5-5x slower (session 18 found three such cliffs). Which compiles hit a refusal depends on the profile, so a
# pass is evidence, not proof; a failure is real.
#   scripts/inlining-scan.sh BF16_DIR INT8_DIR      (BF16_DIR from `./qwen2j synth`, INT8_DIR from `./qwen2j quantize`)
set -euo pipefail
[ $# -eq 2 ] || { sed -n 2,6p "$0"; exit 2; }
bf16=$1 int8=$2
cd "$(dirname "$0")/.."
# Helpers with a vector parameter or result, from the kernel sources, each with its class (both classes have a
# widen(), only VectorInt8Kernels' passes a vector).
helpers=$(for f in tensor/src/main/java/dev/qwen2j/tensor/VectorKernels.java quant/src/main/java/dev/qwen2j/quant/VectorInt8Kernels.java; do
    grep -hE '^\s+(private )?static [A-Za-z<>]+ [a-zA-Z0-9]+\(' "$f" | grep -E '(Float|Int|Short|Byte)Vector' \
      | sed -E "s/^\s+(private )?static [A-Za-z<>]+ ([a-zA-Z0-9]+)\(.*/$(basename "$f" .java)::\2/"
  done | sort -u | paste -sd'|')
log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=0
for bits in 512 256 128; do
  for run in "$bf16 --batch 8 --kv-cache bf16" "$bf16 --context 600 --kv-cache bf16" "$int8 --batch 8 --kv-cache int8" \
             "$int8 --context 600 --kv-cache bf16"; do
    QWEN2J_JAVA_OPTS="-Dqwen2j.vector.bits=$bits -XX:+UnlockDiagnosticVMOptions -XX:+PrintInlining" \
      ./qwen2j bench --model $run --runs 1 --gen-tokens 32 > "$log" 2>&1 || { echo "bench failed: $run"; cat "$log"; exit 1; }
    refused=$(grep -E "dev\.qwen2j\.(tensor|quant)\.($helpers) \(" "$log" \
      | grep -E 'medium method|NodeCountInliningCutoff|DesiredMethodLimit|hot method too big|too big' \
      | sed -E 's/^ *//; s/ +/ /g' | sort | uniq -c || true)
    if [ -n "$refused" ]; then
      echo "$bits bits, $run: refused"; echo "$refused"; failed=1
    else
      echo "$bits bits, $run: ok $(grep -o '"decode_tok_s":[0-9.]*\|"batch_decode_tok_s":[0-9.]*' "$log" | tr '\n' ' ')"
    fi
  done
done
exit $failed
