#!/usr/bin/env bash
# Compiles cuda/src/main/cuda/*.cu to PTX for sm_90 into the resources the CUDA backend loads, and checks each
# with ptxas. Run after changing a .cu file and commit the PTX; CudaPtxTest fails while they disagree.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/cuda/src/main/resources/dev/qwen2j/cuda"
mkdir -p "$out"
for cu in "$root"/cuda/src/main/cuda/*.cu; do
  name=$(basename "$cu" .cu)
  nvcc -ptx -arch=sm_90 -O3 -o "$out/$name.ptx" "$cu"
  ptxas -arch=sm_90 -o /dev/null "$out/$name.ptx"
  echo "$out/$name.ptx"
done
