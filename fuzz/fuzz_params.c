/*
 * fuzz_params.c - schema-driven parameter parsing must never crash.
 *
 * Input layout: byte 0 picks an operation; byte 1 picks the form:
 *   even: the rest is a JSON document of raw parameters (as HTTP sends);
 *   odd:  the rest is NUL-separated command-line words (as the CLI sends).
 * Both go through disco_ops_validate(). Values of the form "@FILE" read a
 * file, so the target runs in an empty folder and skips absolute or
 * parent-relative paths.
 */
#include "disco/ops.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/tmp/disco-fuzz-params-XXXXXX";

    (void)argc;
    (void)argv;
    if (mkdtemp(dir) && chdir(dir) == 0)
        return 0;
    abort();
}

static int reads_outside(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i + 1 < size; i++)
        if (data[i] == '@' && (data[i + 1] == '/' || data[i + 1] == '.'))
            return 1;
    return 0;
}

static json_t *raw_from_words(const disco_op *op, const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1), *words[64];
    int n = 0;
    json_t *raw = NULL;
    disco_status st;

    if (!buf)
        return NULL;
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (size_t i = 0; i <= size && n < 64;) {
        words[n++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    disco_ops_parse_args(op, n, words, &raw, &st);
    free(buf);
    return raw;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n;
    const disco_op *const *all = disco_ops_all(&n);
    const disco_op *op;
    json_t *raw = NULL, *params = NULL;
    disco_status st;

    if (size < 2 || reads_outside(data, size))
        return 0;
    op = all[data[0] % n];
    if (data[1] % 2 == 0)
        raw = json_loadb((const char *)data + 2, size - 2, JSON_DECODE_ANY, NULL);
    else
        raw = raw_from_words(op, data + 2, size - 2);
    if (raw && disco_ops_validate(op, raw, &params, &st) == DISCO_OK) {
        /* Validated output must validate again to the same thing. */
        json_t *again = NULL;
        if (disco_ops_validate(op, params, &again, &st) != DISCO_OK || !json_equal(params, again))
            abort();
        json_decref(again);
    }
    json_decref(params);
    json_decref(raw);
    return 0;
}
