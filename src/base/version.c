/*
 * version.c - the library's version string.
 */
#include "disco/version.h"

const char *disco_version(void)
{
    return DISCO_VERSION_STRING;
}
