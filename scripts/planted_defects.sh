#!/usr/bin/env bash
# Issue 17's planted defects, each reintroduced by a one-line sed in the working tree, the named tests run against
# it, the file restored; prints defect → the tests that failed (a defect nothing catches prints "NOT CAUGHT").
#   scripts/planted_defects.sh            every defect
#   scripts/planted_defects.sh 3 7        only defects 3 and 7 (numbers as in the table)
# Needs a clean checkout of the files it plants in (it refuses otherwise, and restores them with git checkout) and
# the modules installed once (./build mvn -DskipTests install). Prints the CPU's vector extension so the table says
# where it ran. About 15-30 minutes for all on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

S=core/src/main/java/dev/qwen2j/core/sampling/Sampler.java
Q=model/src/main/java/dev/qwen2j/model/Qwen2.java
SEQ=model/src/main/java/dev/qwen2j/model/Sequence.java
SES=model/src/main/java/dev/qwen2j/model/Session.java
BE=model/src/main/java/dev/qwen2j/model/BatchEngine.java
FL=examples/src/main/java/dev/qwen2j/examples/SamplingOptions.java
KC=tensor/src/main/java/dev/qwen2j/tensor/KernelChoice.java
RF=model/src/main/java/dev/qwen2j/model/RopeFrequencies.java

MODEL_REF=NumpyReferenceSuiteTest,NumpyReferenceTest,JlamaParityTest,ModelBehaviourTest
# id | defect | file | sed script | modules | tests
defects=(
  "1|repetition penalty ignores prompt tokens (Sampler)|$S|/int count, int promptCount) {/,/float frequency/s/for (int i = 0; i < count; i++)/for (int i = promptCount; i < count; i++)/|core,model|SamplerTest,GenerationSamplingTest"
  "2a|presence/frequency count prompt tokens (Sampler)|$S|s/for (int i = promptCount; i < count; i++)/for (int i = 0; i < count; i++)/g|core,model|SamplerTest,GenerationSamplingTest"
  "2b|presence/frequency count prompt tokens (Sequence passes promptCount 0)|$SEQ|s/sampler.sample(logits, history, length, promptLength)/sampler.sample(logits, history, length, 0)/|model|GenerationSamplingTest"
  "3|stop token's text streamed before the stop check|$SEQ|/if (contains(stopIds, next)) {/a\\                emit(stopStrings.accept(decoder.accept(next)));|model|GenerationStopTest"
  "4|--system dropped|$FL|s/b.systemPrompt(system);/b.systemPrompt(null);/|examples|GenerationFlagsTest"
  "5|--repetition-penalty wired to the presence penalty|$FL|s/b.repetitionPenalty(repetitionPenalty)/b.presencePenalty(repetitionPenalty)/|examples|GenerationFlagsTest"
  "6|Vector API kernels fail to load, scalar fallback runs silently|$KC|s/return BY_BITS.computeIfAbsent(requested, KernelChoice::vectorKernels);/return SCALAR;/|tensor,model|VectorWidthTest,VectorWidthParityTest"
  "7a|dynamic-NTK base never recomputed past max_position_embeddings (Qwen2)|$Q|s/if (ropeDependsOnLength \&\& length >/if (false \&\& length >/|model|RopeFrequenciesTest,$MODEL_REF"
  "7b|dynamic-NTK base never recomputed (RopeFrequencies ignores the length)|$RF|s/int length = Math.max(sequenceLength, maxPositions);/int length = maxPositions;/|model|RopeFrequenciesTest,$MODEL_REF"
  "8|keys rotated one position late|$Q|s/backend.rope(s.qkv, q + qDim, qkvDim, kvHeads, count, position, /backend.rope(s.qkv, q + qDim, qkvDim, kvHeads, count, position + 1, /|model|$MODEL_REF"
  "9a|prefill re-feeds its first 128-token block (Session.prefill)|$SES|s/System.arraycopy(ids, done, tokens, 0, n);/System.arraycopy(ids, 0, tokens, 0, n);/|model|$MODEL_REF"
  "9b|prefill re-feeds its first 128-token block (BatchEngine)|$BE|s/queue(first, first.promptTokens(), first.position, n,/queue(first, first.promptTokens(), 0, n,/|model|$MODEL_REF,GenerationSamplingTest,GenerationStopTest"
)

only=" $* "
files=()
for d in "${defects[@]}"; do IFS='|' read -r _ _ f _ _ _ <<<"$d"; files+=("$f"); done
if ! git diff --quiet -- "${files[@]}"; then
  echo "planted_defects.sh: uncommitted changes in the files it plants in; commit or stash them first" >&2
  exit 2
fi
current=""
trap '[[ -n $current ]] && git checkout -q -- "$current"' EXIT

isa=$(grep -o -m1 -w 'avx512f' /proc/cpuinfo || grep -o -m1 -w 'avx2' /proc/cpuinfo || echo "no AVX")
log_dir=${PLANTED_LOGS:-$root/target/planted-defects}
mkdir -p "$log_dir"
rows=() built=()
for d in "${defects[@]}"; do
  IFS='|' read -r id what file script modules tests <<<"$d"
  [[ $# -gt 0 && $only != *" ${id%[ab]} "* && $only != *" $id "* ]] && continue
  current=$file
  built+=("$modules")
  sed -i -e "$script" "$file"
  if git diff --quiet -- "$file"; then
    echo "defect $id: the sed script matched nothing in $file (the code moved): fix the script" >&2
    exit 3
  fi
  echo "== defect $id: $what"; git diff -U0 -- "$file" | grep '^[-+] ' || true
  log="$log_dir/defect-$id.log"
  # -am rebuilds the planted module and those between it and the tests; failures do not stop the other modules
  ./build mvn -o -pl "$modules" -am test -Dtest="$tests" -Dsurefire.failIfNoSpecifiedTests=false \
      -Dmaven.test.failure.ignore=true >"$log" 2>&1 || true
  git checkout -q -- "$file"; current=""
  # Surefire's summary lines: "[ERROR]   Class.method:line message" under Failures/Errors
  failed=$(grep -E '^\[ERROR\]   [A-Za-z]+Test\.' "$log" | sed -E 's/^\[ERROR\]   ([A-Za-z]+Test\.[A-Za-z0-9_]+).*/\1/' | sort -u | paste -sd, - || true)
  if grep -q 'COMPILATION ERROR' "$log"; then failed="(compilation error, see $log)"; fi
  # one summary line per module that ran tests
  ran=$(grep -E 'Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$' "$log" \
        | sed -E 's/.*Tests run: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/' \
        | awk '{ r += $1; f += $2; e += $3 } END { if (NR) printf "%d run, %d failed, %d errors", r, f, e }')
  rows+=("| $id | $what | ${failed:-NOT CAUGHT} | ${ran:-?} |")
  echo "   -> ${failed:-NOT CAUGHT} (${ran:-?})"
done
# leave the build outputs matching the restored sources (the last build compiled a planted file)
./build mvn -o -q -pl "$(printf '%s\n' "${built[@]}" | tr , '\n' | sort -u | paste -sd, -)" -am test-compile >/dev/null 2>&1 || echo "rebuild after restoring failed" >&2
echo
echo "Planted defects on $(uname -n), $isa, $(date -u +%Y-%m-%dT%H:%MZ) (logs in $log_dir):"
echo "| # | defect | failing tests | tests run |"
echo "| --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
