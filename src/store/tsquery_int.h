/*
 * tsquery_int.h - what the tsdb query files share (defined in tsquery_agg.c).
 *
 *   tsquery_agg.c  the aggregation kernel; aggregation and step names
 *   tsquery.c      raw, stepped and grouped queries and their JSON result
 */
#ifndef DISCO_TSQUERY_INT_H
#define DISCO_TSQUERY_INT_H

#include "disco/tsquery.h"

/* How many aggregations there are: DISCO_AGG_* are bits 0 .. DISCO__TS_N_AGGS - 1. */
#define DISCO__TS_N_AGGS 11

/* Their names in bit order: "avg" for bit 0. */
extern const char *const disco__ts_agg_names[DISCO__TS_N_AGGS];

#endif
