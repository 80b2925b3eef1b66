#!/bin/sh
# The simulator and the tools know no kernel policy: sim/ and tools/ include
# no allocators/ header, and from kernel/ only the interface the kernel
# offers a machine (arch.h) and a plug-in (plugin.h), the formats a loader
# hands it (boot.h, bootlayout.h, module.h, workload.h, hwprobe.h), what it
# prints (ptdump.h, metal/report.h), and the Multiboot header a kernel file
# carries (metal/multiboot.h, for `boot --kernel`).  tools/registry.c is the
# one place that reads the kernel's registries (the strategy and allocator
# lists).
top="$1"
cd "$top" || exit 2
bad=$(grep -n '#include "\(allocators\|kernel\)/' sim/*.c sim/*.h tools/*.c tools/*.h |
    grep -v '^tools/registry\.c:' |
    grep -v '"kernel/\(arch\|boot\|bootlayout\|module\|workload\|hwprobe\|plugin\|ptdump\|metal/report\|metal/multiboot\)\.h"')
if [ -n "$bad" ]; then
    echo "FAIL: kernel policy headers included by sim/ or tools/:"
    echo "$bad"
    exit 1
fi
echo "includes: sim/ and tools/ include only the kernel's interface headers"
