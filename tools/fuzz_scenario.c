/*
 * fuzz_scenario.c - libFuzzer harness for the scenario parser: any input
 * must give either a scenario or one "file:line:col: error:" line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scenario sc;
    char err[SCN_ERR_MAX];
    err[0] = '\0';
    if (scn_parse("fuzz.scn", (const char *)data, size, &sc, err, sizeof(err))) {
        size_t len;
        free(scn_oplist(&sc, &len));
        scn_free(&sc);
    } else if (strncmp(err, "fuzz.scn:", 9) != 0 || strstr(err, ": error: ") == NULL) {
        abort(); /* every failure must be a located error line */
    }
    return 0;
}
