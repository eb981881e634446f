#!/usr/bin/env bash
# Runs every Jazzer @FuzzTest for real (JAZZER_FUZZ=1), SECONDS each, one target per JVM (Jazzer
# fuzzes one target at a time). New crashing inputs are saved by Jazzer under
# src/test/resources/<package>/<Class>Inputs/<method>/ and then run in every normal test run.
#   bench/fuzz.sh SECONDS [Class#method ...]
source "$(dirname "$0")/lib.sh"
seconds="${1:?usage: bench/fuzz.sh SECONDS [Class#method ...]}"
shift
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  targets=(
    tresor-core:NamesFuzzTest#secretName tresor-core:NamesFuzzTest#simpleName tresor-core:NamesFuzzTest#identity
    tresor-core:NamesFuzzTest#duration tresor-core:PemFuzzTest#certificates tresor-core:PemFuzzTest#privateKey
    tresor-core:PemFuzzTest#csrSigning tresor-server:ApiInputFuzzTest#putSecretBody tresor-server:ApiInputFuzzTest#labelBody
    tresor-server:ApiInputFuzzTest#groupAndMembershipBodies tresor-server:ApiInputFuzzTest#clientAndSignBodies
    tresor-server:ApiInputFuzzTest#requestTarget tresor-server:ConfigLoaderFuzzTest#parse)
fi
cd "$root"
failed=()
for t in "${targets[@]}"; do
  module="${t%%:*}"
  test="${t#*:}"
  [ "$module" = "$t" ] && module="tresor-core"
  echo "== fuzzing $test for ${seconds}s ($module)"
  if ! JAZZER_FUZZ=1 JAZZER_MAX_DURATION="${seconds}s" MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" mvn -B -q -ntp -pl "$module" -am test \
      -Dtest="$test" -Dsurefire.failIfNoSpecifiedTests=false \
      -Dsurefire.redirectTestOutputToFile=false -DtrimStackTrace=false 2>&1 | tail -n 40; then
    failed+=("$t")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "findings in: ${failed[*]} (inputs saved under src/test/resources/.../*Inputs/)"
  exit 1
fi
echo "no findings"
