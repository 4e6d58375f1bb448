#!/usr/bin/env bash
# The CUDA check for a session lent a GPU machine (the `device` tool): that machine has the NVIDIA driver but no
# JDK, so `prepare` (here) builds a kit of a jlinked Java 25 runtime, the jars and the cuda tests into device-kit/
# (ignored by git; pass it as `carry`), and `run` (there) runs the device tests and the benches, writing to $OUT.
#   scripts/device_check.sh prepare
#   run tool: command "bash scripts/device_check.sh run", carry ["device-kit"], timeout_s 540
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kit="$root/device-kit"
case "${1:-}" in
  prepare)
    source "$root/scripts/jdk.sh"
    qwen2j_find_jdk
    cd "$root"
    mvn -B -ntp -q -DskipTests package
    rm -rf "$kit" && mkdir -p "$kit/lib" "$kit/test-lib"
    # the command line without the server's, Spark's and LangChain4j's jars: the kit must fit in 64 MiB
    cp examples/target/qwen2j-examples-0.1.0-SNAPSHOT.jar "$kit/lib/"
    for jar in examples/target/lib/*.jar; do
      case "$(basename "$jar")" in
        javalin-*|jetty-*|websocket-*|kotlin-*|micrometer-*|prometheus-*|HdrHistogram-*|LatencyUtils-*|langchain4j-*|\
        annotations-*|jspecify-*|qwen2j-langchain4j-*) ;;
        *) cp "$jar" "$kit/lib/" ;;
      esac
    done
    # the cuda module's test classes and test class path (each module of -am writes the file; cuda is last)
    mvn -B -ntp -q -pl cuda -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
        -Dmdep.outputFile="$kit/cp.txt"
    # the test-only jars; JUnit itself comes whole in the console launcher
    tr ':' '\n' < "$kit/cp.txt" | grep '\.jar$' | grep -v -e '/qwen2j-' -e '/org/junit/' -e '/opentest4j/' \
        -e '/apiguardian/' | while read -r jar; do
      if [ ! -f "$kit/lib/$(basename "$jar")" ]; then cp "$jar" "$kit/test-lib/"; fi
    done
    rm "$kit/cp.txt"
    cp -r cuda/target/test-classes "$kit/cuda-tests"
    mvn -B -ntp -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.4 \
        -DoutputDirectory="$kit/test-lib"
    # what the model, the command line and the tests load (jdeps also names java.desktop, java.sql and others
    # for optional code paths of Jackson and picocli, which would double the runtime's size)
    "$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.management,jdk.unsupported,java.logging,jdk.zipfs \
        --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$kit/jre"
    strip --strip-unneeded "$kit/jre/lib/server/libjvm.so"
    echo "device-kit: $(du -sh "$kit" | cut -f1) (the run tool carries 64 MiB at most)"
    ;;
  run)
    [ -d "$kit/jre" ] || { echo "no device-kit: run 'scripts/device_check.sh prepare' here and carry device-kit" >&2; exit 2; }
    out=${OUT:-/tmp/qwen2j-device}; mkdir -p "$out"
    java=("$kit/jre/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
    nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true
    # cuBLAS from PyTorch's wheel, if the toolkit has none
    wheel=$(python3 -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null || true)
    [ -n "$wheel" ] && export LD_LIBRARY_PATH="$wheel:${LD_LIBRARY_PATH:-}"
    echo "== device tests" | tee "$out/tests.txt"
    (cd "$root/cuda" && timeout 240 "${java[@]}" -jar "$kit"/test-lib/junit-platform-console-standalone-*.jar \
        execute --class-path "$kit/cuda-tests:$(ls "$kit"/lib/*.jar "$kit"/test-lib/*.jar | grep -v console | tr '\n' ':')" \
        --scan-class-path "$kit/cuda-tests" --details=tree --disable-banner) >> "$out/tests.txt" 2>&1 || echo "tests rc=$?" >> "$out/tests.txt"
    tail -40 "$out/tests.txt"
    cli=("${java[@]}" -XX:+UseSerialGC -cp "$kit/lib/*" dev.qwen2j.examples.Main)
    for shape in qwen2.5-0.5b qwen2.5-7b; do
      echo "== bench $shape"
      "${cli[@]}" synth --shape "$shape" --out "/tmp/$shape" > /dev/null
      for device in cuda cpu; do
        timeout 150 "${cli[@]}" bench --model "/tmp/$shape" --device "$device" --prompt-tokens 1024 --gen-tokens 64 \
            2>> "$out/bench-$shape-$device.err" | tail -1 | tee "$out/bench-$shape-$device.json" || true
        if [ "$shape" = qwen2.5-7b ]; then break; fi # the CPU takes minutes at 7B: cuda only
      done
    done
    ;;
  *) echo "usage: scripts/device_check.sh prepare|run" >&2; exit 2 ;;
esac
