/*
 * boot.h - `pagesim boot`: a scenario on the bare-metal kernel (kernel.elf)
 * under QEMU, booted directly (-kernel) or from a GRUB rescue ISO, its COM1
 * report shown in the layout of `pagesim run`, and with --vs-sim held
 * against the simulator running the same module.
 */
#ifndef PAGESIM_BOOT_CMD_H
#define PAGESIM_BOOT_CMD_H

#include <stdio.h>

/* The exit statuses of `pagesim boot`, one per outcome (README, --help). */
#define BOOTCMD_EXITS(X)                                                                           \
    X(PASS, 0, "the kernel ran the workload to its end (and agrees with the simulator)")           \
    X(FAILED, 1,                                                                                   \
      "the run did not complete, an expectation failed, or --vs-sim or --probe found a "           \
      "difference")                                                                                \
    X(USAGE, 2, "usage or input error")                                                            \
    X(PANIC, 3, "kernel panic: an unhandled fault or exception (its report is shown)")             \
    X(BAD_MODULE, 4, "the kernel rejected the module")                                             \
    X(NO_TOOL, 5, "QEMU or a GRUB tool is missing or failed to start")                             \
    X(TIMEOUT, 6, "the kernel did not finish in time (hung)")                                      \
    X(RESET, 7, "the machine reset (triple fault)")                                                \
    X(NOT_REPORT, 8, "the serial output is not a kernel report")

enum bootcmd_exit {
#define X(id, code, desc) BOOTCMD_##id = code,
    BOOTCMD_EXITS(X)
#undef X
};

/* Runs `pagesim boot` with the command line of main (argv[1] is "boot");
 * returns the exit status. */
int bootcmd_main(int argc, char **argv);

/* Prints the usage of `pagesim boot` to out. */
void bootcmd_usage(FILE *out);

#endif
