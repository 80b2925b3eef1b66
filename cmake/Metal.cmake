# The bare-metal i386 kernel: the same C files as the simulator's kernel
# library, compiled freestanding for i386 (no instrumentation, no libc),
# linked by GNU ld with kernel/metal/kernel.ld.S run through the C
# preprocessor (for kernel/bootlayout.h).
#
# pagesim_metal_base(SOURCES...)   (this tree only: kernel/CMakeLists.txt)
#   Compiles the shared kernel SOURCES and kernel/metal/ into one
#   relocatable object, PAGESIM_METAL_OBJECT (ld -r), and preprocesses the
#   linker script into PAGESIM_METAL_SCRIPT; both are installed, and an
#   installed pagesim-config.cmake names its copies (PAGESIM_INSTALLED).
#
# pagesim_add_metal_kernel(NAME [SOURCES...] [OUTPUT_DIRECTORY DIR])
#   Links NAME.elf (in DIR, default the current binary directory; target
#   pagesim_NAME_elf): SOURCES, compiled with the same flags, then the base
#   object.  A plug-in's pagesim_plugin_init among SOURCES is the one the
#   kernel calls at boot (kernel/plugin.h, kplugin_init_linked), so the
#   plug-in's strategies work in `strategy` lines as built-in ones do.
#   kernel.elf is NAME kernel with no SOURCES.
enable_language(ASM)
find_program(PAGESIM_LD NAMES ld.bfd ld REQUIRED)

set(PAGESIM_METAL_FLAGS
  --target=i386-unknown-none-elf -march=i686 -ffreestanding -fno-builtin -nostdlib
  -fno-pic -fno-pie -fno-stack-protector -fno-omit-frame-pointer -mno-sse -mno-mmx -mno-80387
  -fno-asynchronous-unwind-tables -fno-common)
# How NAME.elf links (pagesim-cc --metal too): PAGESIM_LD with these flags,
# -T the script, -o NAME.elf, NAME's objects, then the base object.
set(PAGESIM_METAL_LINK_FLAGS -m elf_i386 -nostdlib)

if(NOT PAGESIM_INSTALLED)
  set(PAGESIM_METAL_OBJECT ${CMAKE_BINARY_DIR}/kernel/pagesim_metal.o)
  set(PAGESIM_METAL_SCRIPT ${CMAKE_BINARY_DIR}/kernel/kernel.ld)
endif()

# The metal flags on the C and assembly files of target, which may share
# sources with a kernel library (pagesim_after_rewrite).
function(pagesim_metal_compile_options target)
  pagesim_after_rewrite(${target})
  target_include_directories(${target} PRIVATE ${PAGESIM_INCLUDE_DIR})
  target_compile_options(${target} PRIVATE ${PAGESIM_METAL_FLAGS}
    $<$<COMPILE_LANGUAGE:C>:${PAGESIM_WARNINGS}>)
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
endfunction()

function(pagesim_metal_base)
  set(srcdir ${CMAKE_SOURCE_DIR}/kernel/metal)
  add_library(pagesim_metal_objs OBJECT ${ARGN}
    ${srcdir}/entry.S ${srcdir}/trap.S ${srcdir}/main.c ${srcdir}/cpu.c
    ${srcdir}/serial.c ${srcdir}/arch_x86.c)
  pagesim_metal_compile_options(pagesim_metal_objs)
  add_custom_command(OUTPUT ${PAGESIM_METAL_OBJECT}
    COMMAND ${PAGESIM_LD} -m elf_i386 -r -o ${PAGESIM_METAL_OBJECT}
            $<TARGET_OBJECTS:pagesim_metal_objs>
    DEPENDS pagesim_metal_objs $<TARGET_OBJECTS:pagesim_metal_objs>
    COMMAND_EXPAND_LISTS
    COMMENT "Linking the bare-metal kernel's base object")
  add_custom_command(OUTPUT ${PAGESIM_METAL_SCRIPT}
    COMMAND ${CMAKE_C_COMPILER} -E -P -x assembler-with-cpp -I${CMAKE_SOURCE_DIR}
            ${srcdir}/kernel.ld.S -o ${PAGESIM_METAL_SCRIPT}
    DEPENDS ${srcdir}/kernel.ld.S ${CMAKE_SOURCE_DIR}/kernel/bootlayout.h
    COMMENT "Preprocessing the bare-metal kernel's linker script")
  add_custom_target(pagesim_metal_base ALL DEPENDS ${PAGESIM_METAL_OBJECT} ${PAGESIM_METAL_SCRIPT})
endfunction()

function(pagesim_add_metal_kernel name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "OUTPUT_DIRECTORY" "")
  set(dir ${CMAKE_CURRENT_BINARY_DIR})
  if(arg_OUTPUT_DIRECTORY)
    set(dir ${arg_OUTPUT_DIRECTORY})
  endif()
  set(output ${dir}/${name}.elf)
  set(objs)
  set(deps)
  if(arg_UNPARSED_ARGUMENTS)
    add_library(pagesim_${name}_metal OBJECT ${arg_UNPARSED_ARGUMENTS})
    pagesim_metal_compile_options(pagesim_${name}_metal)
    set(objs $<TARGET_OBJECTS:pagesim_${name}_metal>)
    set(deps pagesim_${name}_metal)
  endif()
  add_custom_command(OUTPUT ${output}
    COMMAND ${PAGESIM_LD} ${PAGESIM_METAL_LINK_FLAGS} -T ${PAGESIM_METAL_SCRIPT} -o ${output}
            ${objs} ${PAGESIM_METAL_OBJECT}
    DEPENDS ${deps} ${objs} ${PAGESIM_METAL_OBJECT} ${PAGESIM_METAL_SCRIPT}
    COMMAND_EXPAND_LISTS
    COMMENT "Linking the bare-metal kernel ${output}")
  add_custom_target(pagesim_${name}_elf ALL DEPENDS ${output})
  if(TARGET pagesim_metal_base)
    add_dependencies(pagesim_${name}_elf pagesim_metal_base)
  endif()
endfunction()
