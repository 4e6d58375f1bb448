# Sourced by ./qwen2j and ./build: finds a JDK 25 or newer and exports JAVA_HOME.
# Order: $JAVA_HOME when it is 25+, then the newest /usr/lib/jvm/* that is 25+. PATH is never used:
# the default java on many machines is older.

qwen2j_java_major() { # prints the feature version of the JDK at $1, or nothing
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

qwen2j_find_jdk() {
  local candidate major
  if [ -n "${JAVA_HOME:-}" ]; then
    major=$(qwen2j_java_major "$JAVA_HOME")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then return 0; fi
  fi
  for candidate in $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do
    candidate=${candidate%/}
    major=$(qwen2j_java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      export JAVA_HOME=$candidate
      return 0
    fi
  done
  echo "qwen2j: no JDK 25 found (looked at JAVA_HOME and /usr/lib/jvm/*). Install one, e.g. 'apt-get install temurin-25-jdk' (Adoptium) or any OpenJDK 25+, or set JAVA_HOME to it." >&2
  return 1
}

# Flags every qwen2j JVM needs: the incubating Vector API and native access for FFM (mmap, CUDA).
QWEN2J_JVM_FLAGS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
