#!/bin/bash
# The hottest machine code of a JMH benchmark, disassembled: JMH's perfasm profiler with cpu-clock samples (these VMs
# expose no hardware counters), then each hot region's bytes through objdump. The Debian hsdis plugin
# (libhsdis0-fcml) lets HotSpot print compiled code, but as raw bytes for AVX-512 (EVEX) instructions, so the
# regions are decoded here. Reads: is the inner loop what the Java says (loads folded, no spills, no boxing calls)?
#   scripts/perfasm.sh BENCHMARK_REGEX [JMH args]     e.g. scripts/perfasm.sh 'Int8KernelBenchmark.matvecInt8Mlp$' -p groupSize=32
# Writes the JMH output to target/perfasm/out.txt and the decoded regions to target/perfasm/region-N.s.
set -euo pipefail
[ $# -ge 1 ] || { sed -n 2,7p "$0"; exit 2; }
cd "$(dirname "$0")/.."
source scripts/jdk.sh
qwen2j_find_jdk
hsdis=${HSDIS:-/usr/lib/x86_64-linux-gnu/libhsdis.so.0}
[ -r "$hsdis" ] || { echo "no hsdis plugin at $hsdis: apt-get install libhsdis0-fcml (or set HSDIS)" >&2; exit 1; }
command -v objdump > /dev/null && command -v xxd > /dev/null || { echo "needs objdump (binutils) and xxd" >&2; exit 1; }
out=target/perfasm
rm -rf "$out" && mkdir -p "$out/lib"
ln -s "$hsdis" "$out/lib/hsdis-amd64.so"
./build mvn -q -DskipTests -pl jmh -am package
LD_LIBRARY_PATH="$PWD/$out/lib" "$JAVA_HOME/bin/java" "${QWEN2J_JVM_FLAGS[@]}" -jar jmh/target/benchmarks.jar "$@" \
    -prof 'perfasm:events=cpu-clock;hotThreshold=0.03' > "$out/out.txt" 2>&1 || { tail -20 "$out/out.txt"; exit 1; }
# A region: a "[Hottest Region N]" header, then lines "  [pct%]  0xADDR: hex | hex ..." (comment lines between).
awk -v dir="$out" '
  /^\.\.\.\.\[Hottest Region [0-9]+\]/ { n = $3; sub(/\]\.*$/, "", n); region = n; next }
  /^\.\.\.\./ { region = ""; next }
  region != "" && match($0, /0x[0-9a-f]+: [0-9a-f]/) {
    addr = substr($0, RSTART + 2, RLENGTH - 5)
    if (!(region in start)) { start[region] = addr; print addr > (dir "/region-" region ".start") }
    bytes = substr($0, RSTART + RLENGTH - 1); gsub(/[^0-9a-f]/, "", bytes)
    printf "%s", bytes > (dir "/region-" region ".hex")
  }' "$out/out.txt"
for hex in "$out"/region-*.hex; do
  base=${hex%.hex}
  xxd -r -p "$hex" "$base.bin"
  # Region lines are contiguous from the first address (perfasm prints a window of the method's code).
  objdump -D -b binary -mi386:x86-64 --adjust-vma="0x$(cat "$base.start")" "$base.bin" | sed -n '8,$p' > "$base.s"
  rm -f "$hex" "$base.bin" "$base.start"
done
awk '/^\.\.\.\.\[Hottest Region [0-9]+\]/ { n = $3; sub(/\]\.*$/, "", n); getline what; r[n] = what }
     /<total for region/ { n = $5; sub(/>/, "", n); printf "region %s %s: %s\n", n, $1, r[n] }' "$out/out.txt"
grep -E '^[A-Za-z0-9]+\.[a-zA-Z0-9]+ .* avgt ' "$out/out.txt" || true
echo "decoded: $(ls "$out"/region-*.s | tr '\n' ' ')"
