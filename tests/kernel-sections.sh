#!/bin/sh
# Every writable section of the kernel objects built for the simulator is
# one the simulator restores for each new machine (pagesim_kdata, restored
# from the image; pagesim_kbss, zeroed), or one that holds only what the
# compiler and the dynamic loader write once (.data.rel.ro: constants with
# relocations; .init_array: constructors), or the registries
# (.data.pagesim_registry: written only when a plug-in registers, before any
# machine exists).  Anything else would be kernel state that leaks from one
# run into the next.
fail=0
for a in "$@"; do
    bad=$(readelf -S -W "$a" | awk '
        /^File: / { obj = $2 }
        /^ *\[ *[0-9]+\]/ {
            sub(/^ *\[ *[0-9]+\] */, "")
            name = $1; flags = ""
            for (i = 2; i <= NF; i++) if ($i ~ /^[WAXMSILOGTCEDlopx]+$/ && $i ~ /A/) flags = $i
            if (flags ~ /W/ && name !~ /^(pagesim_kdata|pagesim_kbss|\.data\.pagesim_registry|\.data\.rel\.ro.*|\.init_array.*)$/)
                print obj ": " name
        }')
    if [ -n "$bad" ]; then
        echo "FAIL: writable kernel sections the simulator does not restore in $a:"
        echo "$bad"
        fail=1
    fi
    readelf -S -W "$a" | grep -q ' pagesim_kbss ' ||
        { echo "FAIL: $a has no pagesim_kbss section (renaming did not run?)"; fail=1; }
done
[ $fail -eq 0 ] && echo "kernel-sections: every writable kernel section is restored per machine"
exit $fail
