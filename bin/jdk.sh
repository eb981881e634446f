# Sourced by bin/tresor, bin/test and .ci/run: prints the home of a JDK >= 25 or fails loudly.
tresor_jdk_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -n1
}
tresor_find_jdk() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25* /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
    major="$(tresor_jdk_major "$candidate")"
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  if command -v java >/dev/null 2>&1; then
    candidate="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
    major="$(tresor_jdk_major "$candidate")"
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  fi
  echo "tresor: no JDK >= 25 found (looked at \$JAVA_HOME, /usr/lib/jvm/*, and java on PATH); install Temurin 25" >&2
  return 1
}
