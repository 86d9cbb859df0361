#!/bin/sh
# Compiles cronwarden-exec (src/executor/exec-helper.c), which starts run commands with posix_spawn,
# into dist/executor. Without a C compiler the daemon starts them with Node's spawn() instead, at
# 1.3–2.3 times the CPU per command (docs/performance.md), and says so in its log at start.
# CC picks the compiler (default cc).
set -eu
cd "$(dirname "$0")/.."
out=dist/executor/cronwarden-exec
compiler=${CC:-cc}
if ! command -v "$compiler" >/dev/null 2>&1; then
  rm -f "$out"
  echo "note: no C compiler ($compiler): cronwarden-exec not built; run commands will be started with Node's spawn()" >&2
  exit 0
fi
mkdir -p dist/executor
"$compiler" -O2 -Wall -Wextra -o "$out.tmp" src/executor/exec-helper.c
mv "$out.tmp" "$out"
