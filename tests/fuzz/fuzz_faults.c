/*
 * fuzz_faults.c - the code list of /status/{codes} (and status=) and the
 * --inject-error flag (base/faults.c) on arbitrary bytes. The first byte
 * picks the parser. An accepted list holds 1 to 16 distinct codes from 200
 * to 599 with finite weights >= 0 summing above 0, and every choice is one
 * of its codes with a weight; an accepted flag is a rate in (0, 1] and a
 * code from 400 to 599. A refusal says why.
 */
#include <math.h>
#include <string.h>

#include "faults.h"
#include "fuzz.h"

static void check_list(const faults_list *l)
{
    FUZZ_CHECK(l->n >= 1 && l->n <= FAULTS_MAX_CODES);
    FUZZ_CHECK(isfinite(l->total) && l->total > 0);
    for (size_t i = 0; i < l->n; i++) {
        FUZZ_CHECK(faults_code_ok(l->code[i]));
        FUZZ_CHECK(isfinite(l->weight[i]) && l->weight[i] >= 0);
        for (size_t k = 0; k < i; k++)
            FUZZ_CHECK(l->code[k] != l->code[i]);
    }
    const double us[] = {0, 0.25, 0.5, 0.999999, 0x1.fffffffffffffp-1};
    for (size_t j = 0; j < sizeof(us) / sizeof(us[0]); j++) {
        unsigned c = faults_choose(l, us[j]);
        int found = 0;
        for (size_t i = 0; i < l->n; i++)
            found |= l->code[i] == c && l->weight[i] > 0;
        FUZZ_CHECK(found);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    char *raw = fuzz_tail_cstr(data, size);
    char msg[160] = "";
    if (data[0] & 1) {
        double rate = -1;
        unsigned code = 0;
        if (faults_parse_rate(raw, &rate, &code, msg, sizeof(msg)) == 0)
            FUZZ_CHECK(rate > 0 && rate <= 1 && code >= 400 && code <= 599);
        else
            FUZZ_CHECK(msg[0] != '\0');
    } else {
        faults_list l;
        if (faults_parse_list(raw, &l, msg, sizeof(msg)) == 0)
            check_list(&l);
        else
            FUZZ_CHECK(msg[0] != '\0');
    }
    free(raw);
    return 0;
}
