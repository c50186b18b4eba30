# test_analysis.sh - analyses of stored metrics through the CLI: analyze,
# patterns, compare, forecast, training runs, monitoring.
source "$(dirname "$0")/lib.sh"

T0=1767225600000 # 2026-01-01T00:00:00Z, hourly points for 20 days
{
    echo "metric,host,ts,value"
    for i in $(seq 0 479); do
        awk -v i=$i -v t=$((T0 + i * 3600000)) 'BEGIN {
            srand(i); v = 50 + 10 * sin(2 * 3.14159265 * i / 24) + 0.05 * i + (rand() - 0.5);
            if (i == 300) v += 30;
            w = 20 + 4 * sin(2 * 3.14159265 * (i - 3) / 24) + 0.1 * (rand() - 0.5);
            printf "cpu,a,%.0f,%.4f\nmem,a,%.0f,%.4f\n", t, v, t, w }'
    done
} >"$T/cpu.csv"
d ts write "$T/cpu.csv"
expect_code "write two seasonal metrics" 0

d ts analyze cpu --json
expect_eq "daily season found" "24" "$(jqo '.result.series[0].seasonal.period_samples')"
expect_eq "the injected spike is the anomaly" "300" "$(jqo '.result.series[0].anomalies.items[0].index')"
expect_eq "rising trend" "true" "$(jqo '.result.series[0].trend.slope_per_unit > 0')"
if [[ "$(jqo .summary)" == "daily cycle"*"rising"*"1 anomaly"* ]]; then pass "plain-language summary"; else fail "plain-language summary" "$(jqo .summary)"; fi
A=$(jqo .analysis)
d resource get "$A" --json
expect_eq "analysis stored as a resource" "analysis" "$(jqo .resource_type)"
expect_eq "its parent is the metric resource" "metric" \
    "$("$DISCO" resource get "$(jqo '.parent_resources[0]')" --json | jq -r .resource_type)"
d object get "$(jqo .object)" -o "$T/full.json"
expect_eq "full result kept as its payload" "24" "$(jq -r '.series[0].seasonal.period_samples' "$T/full.json")"

d ts patterns cpu --type trend --json
expect_eq "patterns: trend only" "null" "$(jqo '.result.series[0].anomalies')"
d ts patterns cpu --type sideways
expect_err "bad pattern type" 2 "one of seasonal, cyclic, trend, anomaly"

d ts compare cpu mem --json
expect_eq "compare: two series" "2" "$(jqo '.result.series | length')"
expect_eq "lag found (3 hours, modulo the day)" "3" \
    "$(jqo '((.result.lag_ms[0][1] / 3600000) % 24 + 24) % 24')"
d ts compare cpu
expect_err "compare needs two series" 1 "at least two"

d ts forecast cpu --horizon 12 --json
expect_eq "forecast horizon" "12" "$(jqo '.result.forecast | length')"
if jq -e '.result.forecast | all(.[2] <= .[1] and .[1] <= .[3])' <<<"$OUT" >/dev/null; then pass "intervals hold the mean"; else fail "intervals hold the mean"; fi
if jq -e '.result.holdout.holt_winters.mae < .result.holdout.seasonal_naive.mae' <<<"$OUT" >/dev/null; then pass "beats seasonal naive"; else fail "beats seasonal naive"; fi
d ts forecast nothing
expect_err "forecast of an unknown metric" 1 "nothing"

# a training run that starts overfitting at step 5000
{
    echo "metric,run,ts,value"
    for i in $(seq 0 999); do
        awk -v i=$i -v t=$((T0 + i * 1000)) 'BEGIN { srand(i + 7);
            printf "loss,r1,%.0f,%.5f\nstep,r1,%.0f,%d\n", t, 2.5 * exp(-i / 200) + 0.3 + 0.01 * (rand() - 0.5), t, i * 10;
            if (i % 10 == 0) printf "val_loss,r1,%.0f,%.5f\n", t, 2.5 * exp(-i / 200) + 0.35 + (i > 500 ? (i - 500) * 0.002 : 0) }'
    done
} >"$T/run.csv"
d ts write "$T/run.csv"
d model analyze-training r1 --json
expect_eq "best stopping step" "5000" "$(jqo .result.best.step)"
expect_eq "overfitting found" "5000" "$(jqo .result.overfitting.start_step)"
if [[ "$(jqo .summary)" == "stop at step 5000"* ]]; then pass "training suggestion"; else fail "training suggestion" "$(jqo .summary)"; fi
sed 's/,r1,/,r2,/' "$T/run.csv" | awk -F, 'NR == 1 || $1 != "val_loss" { print; next } { printf "%s,%s,%s,%.5f\n", $1, $2, $3, $4 + 0.5 }' >"$T/run2.csv"
d ts write "$T/run2.csv"
d model compare-runs r2 r1 --json
expect_eq "compare-runs ranks the better run first" "r1" "$(jqo '.result.runs[] | select(.rank == 1) | .name')"
d model analyze-training nosuchrun
expect_err "unknown run" 1 "nosuchrun"

# monitoring
d monitor add-rule cpu --op '>' --value 90 --window 30d --json
R=$(jqo .resource_id)
d monitor check --at $((T0 + 480 * 3600000)) --json
expect_eq "threshold alert raised" "1" "$(jqo '.raised | length')"
d monitor check --at $((T0 + 480 * 3600000)) --json
expect_eq "raised once only" "0" "$(jqo '.raised | length')"
d monitor alerts --rule "$R" --json
expect_eq "alert listed" "1" "$(jqo .count)"
d monitor add-rule cpu --op '>'
expect_err "threshold rule needs a value" 1 "value"
d monitor add-rule cpu --window soon --value 1
expect_err "bad window" 1 "window"

# bad input at the flow level
printf 'ts,value\n1000,5\n2000,NaN\n3000,7\n4000,6\n5000,Inf\n6000,5\n7000,4\n' >"$T/gappy.csv"
d ts write "$T/gappy.csv" --metric gappy
d ts analyze gappy --json
expect_eq "non-finite values are interpolated and reported" "2" "$(jqo '.result.series[0].interpolated')"
d ts forecast gappy
expect_err "forecast refuses gaps and says how to fix them" 1 "--step"
d ts analyze gappy --period 5
expect_err "too short for the period" 1 "too few for a season of 5"
printf 'ts,value\n1000,5\n2000,5\n3000,5\n4000,5\n5000,5\n6000,5\n' >"$T/flat.csv"
d ts write "$T/flat.csv" --metric flat
d ts analyze flat --json
expect_eq "constant series: no anomalies, flat trend" "0 0" "$(jqo '"\(.result.series[0].anomalies.count) \(.result.series[0].trend.degree)"')"
printf 'ts,value\n1000,5\n2000,6\n' >"$T/tiny.csv"
d ts write "$T/tiny.csv" --metric tiny
d ts analyze tiny
expect_err "too short to analyse" 1 "too few finite values"
d ts analyze cpu --period 1
expect_err "period below 2" 2 "param 'period'"
