#!/bin/sh
# Compiles every file of allocators/, the shared kernel/ and the strategy
# template's kernel code as the i386 bare-metal kernel would: freestanding,
# no libc, warnings are errors.
set -e
top="$1"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0
for f in "$top"/allocators/*.c "$top"/kernel/*.c "$top"/examples/strategy-template/hybrid.c; do
    [ -f "$f" ] || continue
    case "$f" in *_x86.c) continue ;; esac
    gcc -m32 -ffreestanding -nostdlib -fno-pie -std=c11 -Wall -Wextra -Werror \
        -I"$top" -c "$f" -o "$out/$(basename "$f").o"
    n=$((n + 1))
done
# No libc headers either (a freestanding compile would still find them).
if grep -nE '#\s*include\s*<' "$top"/allocators/*.c "$top"/allocators/*.h "$top"/kernel/*.c "$top"/kernel/*.h \
    "$top"/examples/strategy-template/hybrid.c 2>/dev/null |
    grep -vE '<(stdint|stddef|stdbool|stdarg)\.h>'; then
    echo "freestanding: libc header included above" >&2
    exit 1
fi
echo "freestanding: $n files compiled for i386"
