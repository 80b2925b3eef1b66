#!/bin/sh
# An installed pagesim, used as a kernel developer would: `cmake --install`
# of this build into a temporary prefix, then, with only that prefix,
# - the installed pagesim lists the strategies and runs an installed
#   scenario as the build's pagesim does (same bytes), and boots its
#   installed kernel.elf;
# - every installed header compiles on its own;
# - pagesim_add_kernel_library refuses code that is not freestanding;
# - the strategy template (examples/strategy-template/), copied out of the
#   tree, builds with Make (pagesim-cc, pkg-config) and with CMake
#   (find_package(pagesim)); its Check test passes both ways; pagesim-cc's
#   object is instrumented kernel code; pagesim-cc --metal compiles and
#   links the metal kernel to the bytes pagesim_add_metal_kernel makes; the
#   plug-in is compare's seventh column with figures counted by hand, the
#   same whichever way it was built; its metal kernel, built either way,
#   boots and agrees with the simulator.
# usage: install.sh BUILD_DIR TOP
set -u
build="$1"
top="$2"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
P="$T/prefix"
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

cmake --install "$build" --prefix "$P" > "$T/install.log" 2>&1 ||
    { cat "$T/install.log"; echo "FAIL: cmake --install"; exit 1; }
PATH="$P/bin:$PATH"
export PATH
scn="$P/share/pagesim/scenarios/thread.scn"

# The installed command: the registry's strategies, and a run of an
# installed scenario byte for byte as the build's program makes it.
[ "$(command -v pagesim)" = "$P/bin/pagesim" ] || fail "pagesim in PATH is not the installed one"
"$P/bin/pagesim" --list-strategies > "$T/list" || fail "installed pagesim --list-strategies"
"$build/tools/pagesim" --list-strategies | cmp -s - "$T/list" ||
    fail "installed --list-strategies differs from the build's"
[ -s "$T/list" ] || fail "installed pagesim lists no strategy"
"$P/bin/pagesim" run "$scn" --strategy recursive > "$T/run" || fail "installed pagesim run $scn"
"$build/tools/pagesim" run "$scn" --strategy recursive | cmp -s - "$T/run" ||
    fail "installed run of thread.scn differs from the build's"
# Its kernel.elf is the installed one (lib/pagesim/, not the build's).
[ -f "$P/lib/pagesim/kernel.elf" ] || fail "no lib/pagesim/kernel.elf"
"$P/bin/pagesim" boot "$scn" --vs-sim > "$T/boot" 2>&1 || { cat "$T/boot"; fail "installed boot"; }

# Every installed header compiles alone: what it includes was installed.
for h in $(cd "$P/include/pagesim" && find . -name '*.h' | sort); do
    h=${h#./}
    printf '#include "%s"\n' "$h" |
        clang -std=c11 -Wall -Wextra -Werror -I"$P/include/pagesim" -x c -fsyntax-only - ||
        fail "installed header $h does not compile alone"
done

# pagesim_add_kernel_library refuses kernel code that would not build for
# the i386 bare-metal kernel: here a file that includes a libc header.
mkdir "$T/libc"
printf 'cmake_minimum_required(VERSION 3.20)\nproject(libc C)\nfind_package(pagesim REQUIRED)\npagesim_add_kernel_library(k k.c)\n' \
    > "$T/libc/CMakeLists.txt"
printf '#include <stdio.h>\nint k(void) { return 0; }\n' > "$T/libc/k.c"
if CC=clang cmake -S "$T/libc" -B "$T/libc/build" -DCMAKE_PREFIX_PATH="$P" > "$T/libc.log" 2>&1 &&
    cmake --build "$T/libc/build" >> "$T/libc.log" 2>&1; then
    fail "a kernel library including <stdio.h> built"
fi
grep -q "Checking that k builds freestanding for i386" "$T/libc.log" ||
    { cat "$T/libc.log"; fail "no freestanding check of a kernel library"; }
grep -q "'stdio.h' file not found" "$T/libc.log" || fail "the freestanding check did not name stdio.h"

tpl="$top/examples/strategy-template"

# Make, with pagesim-cc and pkg-config, in a copy of the template.
cp -r "$tpl" "$T/make"
PKG_CONFIG_PATH="$P/lib/pkgconfig" make -s -C "$T/make" > "$T/make.log" 2>&1 ||
    { cat "$T/make.log"; fail "make of the template"; }
# pagesim-cc made kernel code: accesses rewritten into the runtime's miss
# calls, code in the kernel's text section, no plain .text.
nm "$T/make/build/hybrid.o" | grep -q ' U __ps_store4_miss$' ||
    fail "pagesim-cc: hybrid.o stores are not rewritten"
objdump -h "$T/make/build/hybrid.o" | grep -q ' pagesim_ktext ' ||
    fail "pagesim-cc: hybrid.o has no pagesim_ktext section"
objdump -h "$T/make/build/hybrid.o" | grep -q ' \.text ' && fail "pagesim-cc: hybrid.o has a .text section"
for f in hybrid.so hybrid.elf; do
    [ -f "$T/make/build/$f" ] || fail "make made no $f"
done
# pagesim-cc --help says what it does, --metal included; a metal link takes
# objects only.
pagesim-cc --help > "$T/cc-help" 2>&1 || fail "pagesim-cc --help exits $?"
grep -q 'pagesim-cc --metal -o x.elf' "$T/cc-help" || fail "pagesim-cc --help has no --metal link"
# With nothing to do it shows its usage as an error; like the CMake
# functions, it refuses kernel code that includes a libc header.
pagesim-cc > /dev/null 2> "$T/cc-none"
[ $? -eq 2 ] || fail "pagesim-cc with no arguments does not exit 2"
grep -q '^usage: pagesim-cc' "$T/cc-none" || fail "pagesim-cc with no arguments shows no usage"
pagesim-cc -c "$T/libc/k.c" -o "$T/k.o" 2> "$T/cc-libc" && fail "pagesim-cc -c of a file including <stdio.h> passed"
grep -q "'stdio.h' file not found" "$T/cc-libc" || { cat "$T/cc-libc"; fail "pagesim-cc: no message for <stdio.h>"; }
pagesim-cc --metal -c "$T/libc/k.c" -o "$T/k.metal.o" 2> /dev/null &&
    fail "pagesim-cc --metal -c of a file including <stdio.h> passed"
pagesim-cc --metal -o "$T/x.elf" "$tpl/hybrid.c" 2> "$T/cc-err"
[ $? -eq 2 ] || fail "pagesim-cc --metal link of a C file does not exit 2"
grep -q "^pagesim-cc --metal: a link takes objects, archives and -o FILE.elf, not '.*hybrid.c'$" \
    "$T/cc-err" || { cat "$T/cc-err"; fail "pagesim-cc --metal: no message for a C file"; }
"$T/make/build/test_hybrid" > "$T/make-test.log" 2>&1 ||
    { cat "$T/make-test.log"; fail "test_hybrid built by make"; }

# CMake, with find_package(pagesim) from the prefix.
cp -r "$tpl" "$T/src"
rm -f "$T/src/Makefile"
cmake -S "$T/src" -B "$T/cmake" -DCMAKE_PREFIX_PATH="$P" > "$T/cmake.log" 2>&1 &&
    cmake --build "$T/cmake" -j2 >> "$T/cmake.log" 2>&1 ||
    { cat "$T/cmake.log"; fail "cmake build of the template"; }
for f in hybrid.so hybrid.elf test_hybrid; do
    [ -f "$T/cmake/$f" ] || fail "cmake made no $f"
done
ctest --test-dir "$T/cmake" --output-on-failure > "$T/ctest.log" 2>&1 ||
    { cat "$T/ctest.log"; fail "the template's ctest"; }
# pagesim-cc --metal compiles as pagesim_add_metal_kernel does (with the
# template's own flags: the warnings, C11 with CMake's default extensions,
# the same absolute source path) and links as it does: the same bytes.
cmetal="$T/cmake/CMakeFiles/pagesim_hybrid_metal.dir/hybrid.c.o"
pagesim-cc --metal -Wall -Wextra -Werror -std=gnu11 -c "$T/src/hybrid.c" -o "$T/cc-metal.o" ||
    fail "pagesim-cc --metal -c"
cmp -s "$T/cc-metal.o" "$cmetal" ||
    fail "pagesim-cc --metal -c differs from pagesim_add_metal_kernel's object"
pagesim-cc --metal -o "$T/cc-metal.elf" "$cmetal" || fail "pagesim-cc --metal -o x.elf"
cmp -s "$T/cc-metal.elf" "$T/cmake/hybrid.elf" ||
    fail "pagesim-cc --metal link differs from pagesim_add_metal_kernel's hybrid.elf"

# The template's metal kernel boots, with the built-in strategies beside
# its own, and agrees with the simulator.
"$P/bin/pagesim" boot "$scn" --kernel "$T/cmake/hybrid.elf" --strategy recursive --vs-sim \
    > "$T/hboot" 2>&1 || { cat "$T/hboot"; fail "boot --kernel hybrid.elf --strategy recursive"; }
grep -qx "The runs agree." "$T/hboot" || fail "hybrid.elf under recursive: the runs differ"

# The plug-in (pagesim --plugin, with the template's strategy) as the
# seventh compare column with the figures counted by hand in EXPECTED.md,
# by the installed pagesim (the same check as the template.compare test).
"$top/tests/template.sh" "$P/bin/pagesim" "$top" "$T/cmake/hybrid.so" > "$T/compare.log" 2>&1 ||
    { cat "$T/compare.log"; fail "compare --plugin hybrid.so (tests/template.sh)"; }
# pagesim-cc compiles as the CMake function does: the same figures.
"$P/bin/pagesim" run "$scn" --strategy hybrid --plugin "$T/make/build/hybrid.so" > "$T/run-make" ||
    fail "run --plugin of the make-built hybrid.so"
"$P/bin/pagesim" run "$scn" --strategy hybrid --plugin "$T/cmake/hybrid.so" > "$T/run-cmake" ||
    fail "run --plugin of the cmake-built hybrid.so"
cmp -s "$T/run-make" "$T/run-cmake" || fail "the make- and cmake-built plug-ins report differently"
# Its metal kernel runs its own strategy as the simulator does.
"$P/bin/pagesim" boot "$scn" --kernel "$T/cmake/hybrid.elf" --strategy hybrid --vs-sim \
    --plugin "$T/cmake/hybrid.so" > "$T/hboot" 2>&1 ||
    { cat "$T/hboot"; fail "boot --kernel hybrid.elf --strategy hybrid --vs-sim"; }
grep -qx "The runs agree." "$T/hboot" || fail "hybrid.elf under hybrid: the runs differ"
# The Make-built metal kernel and plug-in too.
"$P/bin/pagesim" boot "$scn" --kernel "$T/make/build/hybrid.elf" --strategy hybrid --vs-sim \
    --plugin "$T/make/build/hybrid.so" > "$T/mboot" 2>&1 ||
    { cat "$T/mboot"; fail "boot --kernel of the make-built hybrid.elf --strategy hybrid --vs-sim"; }
grep -qx "The runs agree." "$T/mboot" || fail "make-built hybrid.elf under hybrid: the runs differ"

[ $fails -eq 0 ] || exit 1
echo "install: installed pagesim runs; the template builds with Make and CMake, tests and boots"
