# Sourced by scripts: exports JAVA_HOME for a JDK >= 21 (the machine's default java is 17).
pick_jdk() {
  local need=${1:-21} d v cands=()
  [ -n "${JAVA_HOME:-}" ] && cands+=("$JAVA_HOME")
  while IFS= read -r d; do cands+=("$d"); done < <(ls -d /usr/lib/jvm/*/ 2>/dev/null | sed 's#/$##' | sort -rV)
  for d in "${cands[@]}"; do
    [ -x "$d/bin/javac" ] || continue
    v=$("$d/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}')
    [ -n "$v" ] && [ "${v%%.*}" -ge "$need" ] && { echo "$d"; return 0; }
  done
  echo "no JDK >= $need (looked at: ${cands[*]})" >&2
  return 1
}
JAVA_HOME=$(pick_jdk 21) || return 1 2>/dev/null || exit 1
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
jdk_major=$("$JAVA_HOME/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}')
if [ "${jdk_major%%.*}" -ge 24 ]; then
  export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
fi
