#!/bin/sh
# kernel-cc.sh REWRITER RUNTIME.bc CC ARGS... -o OBJ ...
#
# The compiler launcher of kernel libraries (cmake/KernelLibrary.cmake):
# runs the compile command as given but for bitcode, then the rewrite step
# (sim/rewrite/ps_rewrite.c), which turns the bitcode into OBJ with every
# access of simulated memory going through the runtime RUNTIME.bc.
set -e
rewriter=$1
runtime=$2
shift 2
out=
prev=
for arg in "$@"; do
    [ "$prev" = "-o" ] && out=$arg
    prev=$arg
done
[ -n "$out" ] || { echo "kernel-cc.sh: no -o in the compile command" >&2; exit 2; }
"$@" -emit-llvm -o "$out.bc"
"$rewriter" "$out.bc" "$runtime" "$out"
rm -f "$out.bc"
