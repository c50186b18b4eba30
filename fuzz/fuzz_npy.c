/*
 * fuzz_npy.c - the .npy reader must accept or refuse any bytes cleanly, and
 * what it accepts must hold exactly rows * cols values.
 */
#include "disco/npy.h"

#include "fuzz_check.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    float *v = NULL;
    size_t rows = 0, cols = 0;
    disco_status st = {0};

    if (disco_npy_parse(data, size, &v, &rows, &cols, &st) == DISCO_OK) {
        CHECK(cols > 0);
        volatile float sum = 0;
        for (size_t i = 0; i < rows * cols; i++)
            sum += v[i];
        (void)sum;
    } else {
        CHECK(st.msg[0] != '\0');
    }
    free(v);
    return 0;
}
