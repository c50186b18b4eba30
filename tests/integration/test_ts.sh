# test_ts.sh - the time-series store through the CLI: metrics, the three
# ingest formats, queries, export/import round trip, deletes, bad input.
source "$(dirname "$0")/lib.sh"

T0=1767225600000 # 2026-01-01T00:00:00Z

d ts create loss --unit nats --description "training loss" --precision float32 \
    --aggregation-rules '{"1m":"avg"}' --json
expect_eq "ts create makes a metric resource" "metric" "$(jqo .resource_type)"
expect_eq "metric metadata" "float32 nats" "$(jqo '"\(.metadata.precision) \(.metadata.unit)"')"
d ts create loss
expect_err "metric created twice" 1 "exists already"
d ts create 'bad name'
expect_err "bad metric name" 1 "metric 'bad name'"
d ts create acc --precision decimal:99
expect_err "bad precision" 1 "precision"

# CSV: metric column, a tag column, ms and ISO timestamps
{
    echo "metric,run,ts,value"
    for i in $(seq 0 179); do echo "loss,a,$((T0 + i * 1000)),$((300 - i)).5"; done
    echo "loss,b,2026-01-01T00:00:00Z,9.25"
} >"$T/loss.csv"
d ts write "$T/loss.csv" --json
expect_eq "csv write" "181 2" "$(jqo '"\(.written) \(.series)"')"

# line protocol from standard input (Telegraf style), nanosecond timestamps
run bash -c "printf 'cpu,host=a usage_user=1.5,usage_system=2i %s\ncpu,host=b usage_user=3 %s\n' \
    ${T0}000000 ${T0}000000 | '$DISCO' ts write --format line --json"
expect_eq "line protocol write" "3" "$(jqo .written)"
expect_eq "line protocol registers metrics" "cpu_usage_system,cpu_usage_user" \
    "$(jqo '.registered | sort | join(",")')"
d resource list --type metric --json
expect_eq "metrics are catalog resources" "3" "$(jqo .count)"

# JSON batch
echo '{"series":[{"metric":"lr","tags":{"run":"a"},"points":[['$T0',0.001],['$((T0 + 60000))',"NaN"]]}]}' >"$T/lr.json"
d ts write "$T/lr.json" --json
expect_eq "json write" "2" "$(jqo .written)"

# queries
d ts query loss --where run=a --json
expect_eq "raw query" "180" "$(jqo '.series[0].points | length')"
expect_eq "float32 precision applied" "300.5" "$(jqo '.series[0].points[0][1]')"
d ts query loss --where run=a --step 1m --agg avg,max,count --json
expect_eq "stepped query columns" "ts,avg,max,count" "$(jqo '.series[0].columns | join(",")')"
expect_eq "stepped query buckets" "3" "$(jqo '.series[0].points | length')"
expect_eq "bucket count" "60" "$(jqo '.series[0].points[0][3]')"
d ts query loss --step 1h --agg count --group-by run --json
expect_eq "group by" "2" "$(jqo '.series | length')"
d ts query loss --where 'run=~a|b' --step 1h --agg count --json
expect_eq "regex matcher" "2" "$(jqo '.series | length')"
d ts query loss --where 'run!=a' --json
expect_eq "not-equal matcher" "b" "$(jqo '.series[0].tags.run')"
d ts query lr --json
expect_eq "NaN survives" "NaN" "$(jqo '.series[0].points[1][1]')"
d ts query loss --where run=a --from "$((T0 + 10000))" --to "$((T0 + 20000))" --json
expect_eq "time range" "10" "$(jqo '.series[0].points | length')"
d ts query loss --where run=a --step 1m
expect_out "query table for people" 0 "2026-01-01T00:00:00.000Z"
d ts list --json
expect_eq "list series" "6" "$(jqo .count)"
d ts list cpu_usage_user --tag host --json
expect_eq "tag values" "a,b" "$(jqo '.values | join(",")')"

# export -> import round trip into another store
d ts export loss -o "$T/export.csv" --time ms
expect_code "export" 0
d --data "$T/other" ts write "$T/export.csv" --json
expect_eq "re-import count" "181" "$(jqo .written)"
d ts query loss --json
A=$(jqo -c .series)
d --data "$T/other" ts query loss --json
expect_eq "export/import round trip" "$A" "$(jqo -c .series)"

# out-of-order window and last write wins
d ts write --format csv --metric temp - <<<"ts,value
$((T0 + 7200000)),20
$((T0 + 7200000)),21"
expect_code "duplicate timestamps in one batch" 0
d ts query temp --json
expect_eq "last write wins" "21" "$(jqo '.series[0].points[0][1]')"
d ts write --format csv --metric temp - <<<"ts,value
$((T0 + 600000)),5"
expect_err "too old for the out-of-order window" 1 "temp"
d ts write --format csv --metric temp - <<<"ts,value
$((T0 + 7000000)),19"
expect_code "within the out-of-order window" 0

# bad input rejects the whole batch
d ts stats --json
BEFORE=$(jqo .points)
printf 'cpu,host=a usage_user=1 %s\ncpu,host=a usage_user= %s\n' "${T0}000000" "${T0}000000" >"$T/bad.lp"
d ts write "$T/bad.lp" --format line
expect_err "malformed line names line and column" 1 "line 2, column"
d ts write "$T/bad.csv"
expect_err "missing file" 1 "bad.csv"
d ts write --format xml "$T/loss.csv"
expect_err "unknown format" 2 "one of json, csv, line"
d ts stats --json
expect_eq "failed writes store nothing" "$BEFORE" "$(jqo .points)"
d ts query loss --step 1m --agg median
expect_err "unknown aggregation" 1 "median"
d ts query loss --agg avg
expect_err "aggregation without step" 1 "--step"
d ts query loss --where 'run=~(' 
expect_err "bad regex" 1 "run"

# delete a range
d ts delete loss --where run=a --from "$T0" --to "$((T0 + 60000))" --json
expect_eq "delete range" "60" "$(jqo .deleted)"
d ts query loss --where run=a --json
expect_eq "points after delete" "120" "$(jqo '.series[0].points | length')"
d ts stats --json
expect_eq "stats count points" "$((BEFORE - 60))" "$(jqo .points)"
