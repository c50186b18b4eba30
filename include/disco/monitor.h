/*
 * monitor.h - watching metrics and raising alerts.
 *
 * A rule is a catalog resource of type "alert_rule" whose metadata says
 * what to watch:
 *
 *   {"metric": "http_latency_ms", "where": ["route=/api"], "window_ms": 3600000,
 *    "kind": "threshold", "op": ">", "value": 250}
 *   {"metric": "loss", "where": ["run=a"], "window_ms": 3600000, "kind": "anomaly",
 *    "threshold": 3.5}
 *
 * A check reads each rule's window of points ending at `now` and raises an
 * alert - a resource of type "alert", parents the rule and the metric - for
 * every point that breaks a threshold rule, or that is an anomaly (modified
 * z-score over the window) for an anomaly rule. An alert is raised once per
 * rule and point time (tags rule=<id>, at=<ms>), so checks can repeat.
 */
#ifndef DISCO_MONITOR_H
#define DISCO_MONITOR_H

#include "disco/catalog.h"
#include "disco/tsdb.h"

/*
 * Validates and stores a rule (see above); INVAL names a bad member.
 * `rule` is borrowed. `out` may be NULL.
 */
int disco_monitor_add_rule(disco_catalog *cat, const json_t *rule, const char *owner,
                           disco_resource *out, disco_status *st);

/*
 * Evaluates every rule at `now_ms` and raises new alerts. Report:
 * {"rules": n, "raised": [alert summaries], "errors": [{"rule", "message"}]}.
 */
int disco_monitor_check(disco_catalog *cat, disco_tsdb *db, int64_t now_ms, const char *owner,
                        json_t **report, disco_status *st);

#endif
