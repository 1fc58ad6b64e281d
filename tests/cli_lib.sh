# Shared by the CLI test scripts (sourced): a failure counter and `expect`.
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
# expect CODE PATTERN CMD...: exit status CODE and PATTERN in stdout+stderr
expect() {
    code=$1; pattern=$2; shift 2
    out=$("$@" 2>&1); got=$?
    [ "$got" -eq "$code" ] || fail "$* exited $got, want $code: $out"
    printf '%s' "$out" | grep -q -- "$pattern" || fail "$*: no '$pattern' in: $out"
}
