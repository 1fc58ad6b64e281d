#!/bin/sh
# Runs an example and checks that its standard output has a line matching
# an extended regular expression: the lab's claim, not just "it ran".
# usage: check_output.sh REGEX PROGRAM [ARGS...]
regex=$1
shift
out=$("$@") || { status=$?; echo "$1 exited with status $status" >&2; printf '%s\n' "$out"; exit 1; }
if printf '%s\n' "$out" | grep -Eq "$regex"; then
  exit 0
fi
printf '%s\n' "$out"
echo "no line of the output above matches: $regex" >&2
exit 1
