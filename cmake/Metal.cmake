# pagesim_add_metal_kernel(OUTPUT SOURCES...)
#
# Builds the bare-metal i386 kernel OUTPUT (kernel.elf) from the shared
# kernel sources plus kernel/metal/: the same C files as the simulator's
# kernel library, compiled freestanding for i386 (no instrumentation, no
# libc), linked by GNU ld with kernel/metal/kernel.ld.S run through the C
# preprocessor (for kernel/bootlayout.h).
enable_language(ASM)
find_program(PAGESIM_LD NAMES ld.bfd ld REQUIRED)

set(PAGESIM_METAL_FLAGS
  --target=i386-unknown-none-elf -march=i686 -ffreestanding -fno-builtin -nostdlib
  -fno-pic -fno-pie -fno-stack-protector -fno-omit-frame-pointer -mno-sse -mno-mmx -mno-80387
  -fno-asynchronous-unwind-tables -fno-common)

function(pagesim_add_metal_kernel output)
  set(srcdir ${CMAKE_SOURCE_DIR}/kernel/metal)
  add_library(pagesim_metal_objs OBJECT ${ARGN}
    ${srcdir}/entry.S ${srcdir}/trap.S ${srcdir}/main.c ${srcdir}/cpu.c
    ${srcdir}/serial.c ${srcdir}/arch_x86.c)
  target_include_directories(pagesim_metal_objs PRIVATE ${CMAKE_SOURCE_DIR})
  target_compile_options(pagesim_metal_objs PRIVATE ${PAGESIM_METAL_FLAGS}
    $<$<COMPILE_LANGUAGE:C>:${PAGESIM_WARNINGS}>)
  set_target_properties(pagesim_metal_objs PROPERTIES POSITION_INDEPENDENT_CODE OFF)

  set(script ${CMAKE_CURRENT_BINARY_DIR}/kernel.ld)
  add_custom_command(OUTPUT ${script}
    COMMAND ${CMAKE_C_COMPILER} -E -P -x assembler-with-cpp -I${CMAKE_SOURCE_DIR}
            ${srcdir}/kernel.ld.S -o ${script}
    DEPENDS ${srcdir}/kernel.ld.S ${CMAKE_SOURCE_DIR}/kernel/bootlayout.h
    COMMENT "Preprocessing the kernel.elf linker script")
  add_custom_command(OUTPUT ${output}
    COMMAND ${PAGESIM_LD} -m elf_i386 -nostdlib -T ${script} -o ${output}
            $<TARGET_OBJECTS:pagesim_metal_objs>
    DEPENDS pagesim_metal_objs $<TARGET_OBJECTS:pagesim_metal_objs> ${script}
    COMMAND_EXPAND_LISTS
    COMMENT "Linking the bare-metal kernel ${output}")
  add_custom_target(pagesim_kernel_elf ALL DEPENDS ${output})
endfunction()
