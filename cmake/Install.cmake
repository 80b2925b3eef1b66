# `cmake --install build --prefix P`: what a kernel developer needs to build
# and run their own kernel code against pagesim, out of this tree.
#
#   P/bin/pagesim, P/bin/pagesim-cc        the command, the compiler driver
#   P/lib/lib*.a                           MMU model, simulator, loader, the
#                                          (renamed) kernel library, runner
#   P/lib/pagesim/                         kernel.elf, the metal base object
#                                          and linker script, the rewrite
#                                          step, its runtime, the launcher
#   P/include/pagesim/                     the public headers, by their paths
#   P/lib/cmake/pagesim/                   find_package(pagesim)
#   P/lib/pkgconfig/pagesim.pc             pkg-config pagesim
#   P/share/pagesim/scenarios/             the shipped scenarios
include(CMakePackageConfigHelpers)
set(pkglib ${PAGESIM_INSTALL_PKGLIBDIR})
set(PAGESIM_INSTALL_INCLUDEDIR include/pagesim)
set(PAGESIM_INSTALL_CMAKEDIR lib/cmake/pagesim)
set(PAGESIM_INSTALL_BINDIR bin)
set(PAGESIM_INSTALL_SCENARIODIR share/pagesim/scenarios)

# What a strategy includes, then what a Check test of one runs kernel code
# with (the machine, its loader, the runner), and what these include.
set(PAGESIM_PUBLIC_HEADERS
  kernel/arch.h kernel/plugin.h kernel/klib.h kernel/layout.h kernel/bootlayout.h
  allocators/placement.h
  mmu/x86.h allocators/vmm.h allocators/vmm_strategy.h allocators/pmm.h allocators/heap.h
  sim/sim.h sim/bootload.h mmu/mmu.h mmu/tlb.h
  kernel/boot.h kernel/hwprobe.h kernel/module.h kernel/workload.h
  tools/runner.h tools/scenario.h tools/counters.h)
foreach(h ${PAGESIM_PUBLIC_HEADERS})
  get_filename_component(dir ${h} DIRECTORY)
  install(FILES ${h} DESTINATION ${PAGESIM_INSTALL_INCLUDEDIR}/${dir})
endforeach()

# The libraries, in link order (each needs those after it); the kernel
# library is the renamed archive pagesim_add_kernel_library makes.
set(PAGESIM_INSTALL_LIBS pagesim_runner pagesim_scenario pagesim_bootload pagesim_kernel
  pagesim_sim pagesim_mmu)
install(TARGETS pagesim_runner pagesim_scenario pagesim_bootload pagesim_sim pagesim_mmu
  ARCHIVE DESTINATION lib)
install(FILES $<TARGET_PROPERTY:pagesim_kernel_archive,IMPORTED_LOCATION> DESTINATION lib)

install(TARGETS pagesim RUNTIME DESTINATION ${PAGESIM_INSTALL_BINDIR})
install(TARGETS ps_rewrite RUNTIME DESTINATION ${pkglib})
install(PROGRAMS ${PAGESIM_KERNEL_CC} DESTINATION ${pkglib})
install(FILES ${PAGESIM_KERNEL_ELF} ${PAGESIM_METAL_OBJECT} ${PAGESIM_METAL_SCRIPT}
  ${PAGESIM_ACCESS_BC} ${PAGESIM_KERNEL_SYMS} DESTINATION ${pkglib})
install(DIRECTORY scenarios/ DESTINATION ${PAGESIM_INSTALL_SCENARIODIR} FILES_MATCHING PATTERN "*.scn")

# pagesim-cc: the compile of pagesim_add_kernel_library for one file, from
# the same flags (SHELL: groups become plain words for sh).
string(REPLACE "SHELL:" "" kflags "${PAGESIM_KERNEL_CFLAGS}")
list(JOIN kflags " " PAGESIM_CC_KERNEL_FLAGS)
get_filename_component(PAGESIM_CC_RUNTIME ${PAGESIM_ACCESS_BC} NAME)
get_filename_component(PAGESIM_CC_SYMS ${PAGESIM_KERNEL_SYMS} NAME)
get_filename_component(PAGESIM_CC_REWRITER ${PAGESIM_REWRITER} NAME)
get_filename_component(PAGESIM_CC_LAUNCHER ${PAGESIM_KERNEL_CC} NAME)
string(REPLACE ";" " " PAGESIM_CC_SECTIONS "${PAGESIM_KERNEL_SECTIONS}")
set(plugin_flags ${PAGESIM_PLUGIN_LINK_FLAGS})
list(REMOVE_ITEM plugin_flags -shared) # given on pagesim-cc's command line
string(REPLACE ";" " " PAGESIM_CC_PLUGIN_FLAGS "${plugin_flags}")
# pagesim-cc --metal: the compile and link of pagesim_add_metal_kernel.
list(JOIN PAGESIM_METAL_FLAGS " " PAGESIM_CC_METAL_FLAGS)
list(JOIN PAGESIM_METAL_LINK_FLAGS " " PAGESIM_CC_METAL_LINK_FLAGS)
get_filename_component(PAGESIM_METAL_OBJECT_NAME ${PAGESIM_METAL_OBJECT} NAME)
get_filename_component(PAGESIM_METAL_SCRIPT_NAME ${PAGESIM_METAL_SCRIPT} NAME)
configure_file(cmake/pagesim-cc.in ${CMAKE_BINARY_DIR}/pagesim-cc @ONLY)
install(PROGRAMS ${CMAKE_BINARY_DIR}/pagesim-cc DESTINATION ${PAGESIM_INSTALL_BINDIR})

# pkg-config: the libraries for a Check test of kernel code, linked as
# pagesim's own programs are (above 4 GiB, symbols exported for call chains).
list(TRANSFORM PAGESIM_INSTALL_LIBS REPLACE "^pagesim_" "-lpagesim_" OUTPUT_VARIABLE PAGESIM_PC_LIBS)
list(JOIN PAGESIM_PC_LIBS " " PAGESIM_PC_LIBS)
# The dynamic loader's library (dlopen, dladdr), where the platform has one.
if(CMAKE_DL_LIBS)
  string(APPEND PAGESIM_PC_LIBS " -l${CMAKE_DL_LIBS}")
endif()
configure_file(cmake/pagesim.pc.in ${CMAKE_BINARY_DIR}/pagesim.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/pagesim.pc DESTINATION lib/pkgconfig)

# find_package(pagesim): imported targets and the functions that build kernel
# code, from the same cmake/ files this tree uses.
configure_package_config_file(cmake/pagesim-config.cmake.in
  ${CMAKE_BINARY_DIR}/pagesim-config.cmake INSTALL_DESTINATION ${PAGESIM_INSTALL_CMAKEDIR}
  PATH_VARS PAGESIM_INSTALL_INCLUDEDIR PAGESIM_INSTALL_PKGLIBDIR PAGESIM_INSTALL_BINDIR
  PAGESIM_INSTALL_SCENARIODIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/pagesim-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/pagesim-config.cmake
  ${CMAKE_BINARY_DIR}/pagesim-config-version.cmake cmake/KernelLibrary.cmake cmake/Metal.cmake
  DESTINATION ${PAGESIM_INSTALL_CMAKEDIR})
