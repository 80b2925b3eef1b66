# pagesim_add_kernel_library(NAME SOURCES...)
#
# Compiles kernel C files for the simulator: freestanding, and with every
# load and store of simulated memory rewritten into a call of the access
# runtime (sim/access.h), whose hit path is inlined.  Each file goes
#   clang -O2 -emit-llvm -c  ->  ps_rewrite (sim/rewrite/ps_rewrite.c):
#   rewrite, link the runtime's bitcode, inline its hit path  ->  object
# behind a compiler launcher (cmake/kernel-cc.sh), so kernel files are
# listed as plain sources.  The kernel's own memset/memcpy/memmove/memcmp
# (also the ones the compiler emits for struct copies) are renamed to
# kern_* in the objects, so the host's libc keeps its own.  The kernel's code is
# moved into a section of its own, PAGESIM_KERNEL_TEXT, whose bounds tell the
# simulator kernel frames from host ones when it walks a call chain (frame
# pointers kept, and no sibling calls, so every caller keeps its frame).
#
# The kernel's writable data (.data, .data.rel*, .bss) is moved into the
# sections pagesim_kdata and pagesim_kbss: the simulator restores them from a
# pristine copy whenever it creates a machine, as loading the kernel image
# again would, so no run ever sees what an earlier one left in kernel
# statics (sim/machine.c).  The `kernel-sections` test fails if a kernel
# object has writable data anywhere else.
#
# The compile keeps clang's kernel-address sanitizer with its access checks
# turned off: the optimiser then makes exactly the code it made when those
# checks were the mechanism (the sanitizer's attribute restrains a few
# transformations, such as load widening), so every access counted then is
# counted now, and the sanitizer still turns memory intrinsics into calls
# of the kernel's own memcpy/memmove/memset (kernel code, itself rewritten).
# The rewrite runs after -O2, as the sanitizer did: `*pte |= PTE_W` stays one
# load and one store.
set(PAGESIM_KERNEL_CFLAGS
  # The figures count the accesses of the code -O2 makes, whatever the
  # build type of the project compiling kernel files.
  -O2
  -ffreestanding -fno-builtin -fno-stack-protector -fno-omit-frame-pointer -fno-common
  -fno-optimize-sibling-calls
  # Kernel addresses are 32-bit integers: on the 64-bit host they widen to
  # pointers (zero-extended) and back, which is exactly what is wanted.
  -Wno-int-to-pointer-cast -Wno-pointer-to-int-cast
  -fsanitize=kernel-address
  "SHELL:-mllvm -asan-instrument-reads=0"
  "SHELL:-mllvm -asan-instrument-writes=0"
  "SHELL:-mllvm -asan-instrument-atomics=0"
  "SHELL:-mllvm -asan-instrument-byval=0"
  "SHELL:-mllvm -asan-stack=0"
  "SHELL:-mllvm -asan-globals=0")
# Where the pipeline's parts are: the headers, the rewrite step and the
# runtime's bitcode (sim/CMakeLists.txt), the renaming list and the
# launcher.  This tree's, unless an installed pagesim-config.cmake set them
# (PAGESIM_INSTALLED) before including this file.
if(NOT PAGESIM_INSTALLED)
  set(PAGESIM_INCLUDE_DIR ${CMAKE_SOURCE_DIR})
  set(PAGESIM_REWRITER ${CMAKE_BINARY_DIR}/sim/ps_rewrite)
  set(PAGESIM_ACCESS_BC ${CMAKE_BINARY_DIR}/sim/access.bc)
  set(PAGESIM_KERNEL_SYMS ${CMAKE_SOURCE_DIR}/cmake/kernel-syms.txt)
  set(PAGESIM_KERNEL_CC ${CMAKE_SOURCE_DIR}/cmake/kernel-cc.sh)
endif()
# How a plug-in's objects link into NAME.so (pagesim-cc -shared too): no
# libc of its own, its own definitions first, kernel symbols left to pagesim.
set(PAGESIM_PLUGIN_LINK_FLAGS -shared -nostdlib -Wl,-Bsymbolic)
# A C identifier, so that the linker defines __start_/__stop_ symbols for it.
set(PAGESIM_KERNEL_TEXT pagesim_ktext)
set(PAGESIM_KERNEL_SECTIONS
  --rename-section .data=pagesim_kdata
  --rename-section .data.rel=pagesim_kdata
  --rename-section .data.rel.local=pagesim_kdata
  --rename-section .bss=pagesim_kbss
  --rename-section .text=${PAGESIM_KERNEL_TEXT})

# The kernel objects of NAME: the static library NAME_raw of the sources
# compiled as kernel code (the launcher's rewrite), and the check that the
# same sources build for the bare-metal i386 kernel too: freestanding, no
# libc headers, warnings are errors (a syntax check with the metal flags of
# cmake/Metal.cmake, the library's includes and definitions).
function(_pagesim_kernel_objects name)
  add_library(${name}_raw STATIC ${ARGN})
  target_include_directories(${name}_raw PUBLIC ${PAGESIM_INCLUDE_DIR})
  target_compile_options(${name}_raw PRIVATE ${PAGESIM_WARNINGS} ${PAGESIM_KERNEL_CFLAGS})
  set_target_properties(${name}_raw PROPERTIES POSITION_INDEPENDENT_CODE ON C_COMPILER_LAUNCHER
    "${PAGESIM_KERNEL_CC};${PAGESIM_REWRITER};${PAGESIM_ACCESS_BC}")
  if(TARGET ps_rewrite)
    add_dependencies(${name}_raw ps_rewrite pagesim_access_bc)
  endif()
  # Objects are made again when the rewrite step or the runtime changes.
  set(srcs)
  foreach(src ${ARGN})
    set_property(SOURCE ${src} APPEND PROPERTY OBJECT_DEPENDS ${PAGESIM_ACCESS_BC}
      ${PAGESIM_REWRITER} ${PAGESIM_KERNEL_CC})
    get_filename_component(abs ${src} ABSOLUTE)
    list(APPEND srcs ${abs})
  endforeach()
  set(incs $<TARGET_PROPERTY:${name}_raw,INCLUDE_DIRECTORIES>)
  set(defs $<TARGET_PROPERTY:${name}_raw,COMPILE_DEFINITIONS>)
  set(stamp ${CMAKE_CURRENT_BINARY_DIR}/${name}.i386-checked)
  add_custom_command(OUTPUT ${stamp}
    COMMAND ${CMAKE_C_COMPILER} ${PAGESIM_METAL_FLAGS} -nostdlibinc -std=c11 ${PAGESIM_WARNINGS}
            "$<$<BOOL:${incs}>:-I$<JOIN:${incs},;-I>>" "$<$<BOOL:${defs}>:-D$<JOIN:${defs},;-D>>"
            -fsyntax-only ${srcs}
    COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
    DEPENDS ${srcs}
    COMMAND_EXPAND_LISTS VERBATIM
    COMMENT "Checking that ${name} builds freestanding for i386")
  add_custom_target(${name}_i386 DEPENDS ${stamp})
  add_dependencies(${name}_raw ${name}_i386)
endfunction()

# A target that compiles a source a kernel library compiles too (the metal
# kernel, the QEMU reference kernel): the source carries the OBJECT_DEPENDS
# above (a directory-wide property), so the target is built after the
# rewrite step and its runtime exist.  Nothing to do from an installed
# prefix, where both are there already.
function(pagesim_after_rewrite target)
  if(TARGET ps_rewrite)
    add_dependencies(${target} ps_rewrite pagesim_access_bc)
  endif()
endfunction()

function(pagesim_add_kernel_library name)
  _pagesim_kernel_objects(${name} ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/lib${name}.a)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_OBJCOPY} --redefine-syms=${PAGESIM_KERNEL_SYMS}
            ${PAGESIM_KERNEL_SECTIONS} $<TARGET_FILE:${name}_raw> ${out}
    DEPENDS ${name}_raw ${PAGESIM_KERNEL_SYMS}
    COMMENT "Renaming kernel memory functions in ${name}")
  add_custom_target(${name}_renamed DEPENDS ${out})
  # The renamed archive as an imported static library, so that CMake orders
  # it before pagesim_sim (its hooks and arch_*) and before any kernel
  # library linked after it.
  add_library(${name}_archive STATIC IMPORTED GLOBAL)
  set_target_properties(${name}_archive PROPERTIES IMPORTED_LOCATION ${out})
  target_link_libraries(${name}_archive INTERFACE pagesim::sim)
  add_library(${name} INTERFACE)
  target_link_libraries(${name} INTERFACE ${name}_archive)
  target_include_directories(${name} INTERFACE ${PAGESIM_INCLUDE_DIR})
  add_dependencies(${name} ${name}_renamed)
endfunction()

# pagesim_add_strategy_plugin(NAME SOURCES...)
#
# Builds a plug-in (kernel/plugin.h) for `pagesim --plugin NAME.so`: its
# sources are compiled exactly as kernel libraries are (the rewrite, the
# kern_* renaming, the kernel sections, so the simulator restores the
# plug-in's data in every machine and names its functions in call chains),
# and checked to build for i386, then linked into the shared object NAME.so
# in the current binary directory, target NAME.  The kernel functions it
# calls stay undefined: the pagesim program provides them.
function(pagesim_add_strategy_plugin name)
  _pagesim_kernel_objects(${name} ${ARGN})
  set(renamed ${CMAKE_CURRENT_BINARY_DIR}/lib${name}_kernel.a)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${name}.so)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_OBJCOPY} --redefine-syms=${PAGESIM_KERNEL_SYMS}
            ${PAGESIM_KERNEL_SECTIONS} $<TARGET_FILE:${name}_raw> ${renamed}
    COMMAND ${CMAKE_C_COMPILER} ${PAGESIM_PLUGIN_LINK_FLAGS} -o ${out}
            -Wl,--whole-archive ${renamed} -Wl,--no-whole-archive
    DEPENDS ${name}_raw ${PAGESIM_KERNEL_SYMS}
    COMMENT "Linking kernel plug-in ${name}.so")
  add_custom_target(${name} ALL DEPENDS ${out})
endfunction()
