#!/bin/sh
# kreconcile watch on the bed: a pushed commit (version and env change) is deployed within an
# interval, waiting for its image until CI pushed it; a container stopped by hand is repaired
# within a drift interval and recorded as drift; a broken commit is recorded as failed with
# growing retry gaps and changes nothing; a newer good commit is deployed at once; the webhook
# with a good signature starts a poll at once, a bad one gets 401; /metrics, /healthz, /readyz.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
. "$(dirname "$0")/watch_lib.sh"
watch_setup

a=$(git -C "$clone" rev-parse HEAD)
ci_image "$a" v1
watch_start --interval 2s --drift-interval 4s --backoff-max 8s
wait_for 60 running 1 "sample-web-$a" || { cat "$wlog" >&2; fail "commit $a not deployed at startup"; }
wait_for 20 running 2 "sample-worker-$a" || fail "worker of $a not running"
wait_for 10 hist_has '"trigger":"startup","commit":"'"$a"'"' || fail "no startup run in the history"
ok "startup: commit $(echo $a | cut -c1-7) deployed"

# ---- a commit with a new version and a changed clear env; CI pushes its image a bit later
b=$(commit "message b" 's/SAMPLE_MESSAGE: .*/SAMPLE_MESSAGE: from-commit-b/')
t0=$(date +%s)
wait_for 20 grep -q "waiting for the image of $(echo $b | cut -c1-7)" "$wlog" ||
	{ cat "$wlog" >&2; fail "no word on the missing image of the new commit"; }
running 1 "sample-web-$a" || fail "the old version stopped while the new image was missing"
ci_image "$b" v2
wait_for 60 running 1 "sample-web-$b" || { cat "$wlog" >&2; fail "commit b not deployed"; }
wait_for 30 sh -c "! docker -H $KR_TESTBED_DOCKER_H1 inspect -f '{{.State.Running}}' sample-web-$a 2>/dev/null | grep -q true" ||
	fail "the old web container still runs"
bed_docker 1 inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "sample-web-$b" |
	grep -qx 'SAMPLE_MESSAGE=from-commit-b' || fail "the env change is not in the new container"
[ "$(app_get 1 "sample-web-$b" /version)" = "v2 from-commit-b" ] || fail "the new container does not answer v2"
ok "commit b (version + env) deployed $(($(date +%s) - t0)) s after the push, after waiting for its image"

# ---- drift: someone stops the web container (once the watcher is at rest on b)
wait_for 60 grep -q "commit $(echo $b | cut -c1-7) applied; hosts match" "$wlog" ||
	{ cat "$wlog" >&2; fail "the watcher never said b is applied"; }
bed_docker 1 stop "sample-web-$b" >/dev/null
wait_for 30 running 1 "sample-web-$b" || { cat "$wlog" >&2; fail "drift not repaired"; }
wait_for 10 grep -q 'drift repaired' "$wlog" || { tail -40 "$wlog" >&2; fail "no word on the repaired drift"; }
wait_for 10 hist_has '"trigger":"drift"' || fail "no drift run in the history"
ok "a stopped container was repaired by the drift check and recorded"

# ---- a broken commit: bad YAML
c=$(commit "broken" 's/^servers:$/servers: [oops/')
ci_image "$c" v3
wait_for 40 sh -c "[ \$(cd $proj && $KREC history --json -n 200 | grep -c '\"commit\": \"$c\"') -ge 3 ]" ||
	{ cat "$wlog" >&2; fail "the broken commit was not retried and recorded"; }
hist | grep -A8 "\"commit\": \"$c\"" | grep -q '"outcome": "failed"' || fail "the broken commit is not recorded as failed"
grep "commit $(echo $c | cut -c1-7) failed" "$wlog" | sed -n 's/.*retry in \([0-9]*\) s.*/\1/p' >"$proj/gaps"
[ "$(sed -n 1p "$proj/gaps")" -lt "$(sed -n 3p "$proj/gaps")" ] || { cat "$proj/gaps" >&2; fail "retry gaps do not grow"; }
running 1 "sample-web-$b" || fail "the broken commit changed the running version"
[ -z "$(cid 1 "sample-web-$c")" ] || fail "the broken commit started a container"
ok "the broken commit failed, was retried with growing gaps ($(tr '\n' ' ' <"$proj/gaps")s), nothing changed"

# ---- a newer good commit is deployed at once
d=$(commit "fixed" 's/^servers: \[oops$/servers:/')
ci_image "$d" v3
wait_for 40 running 1 "sample-web-$d" || { cat "$wlog" >&2; fail "the fixed commit was not deployed"; }
wait_for 30 grep -q "commit $(echo $d | cut -c1-7) applied; hosts match" "$wlog" || fail "d not applied whole"
ok "the newer good commit was deployed"

# ---- the listener
[ "$(http_get /healthz)" = 200 ] || fail "/healthz"
[ "$(http_get /readyz)" = 200 ] || fail "/readyz"
curl -s "http://127.0.0.1:$port/metrics" >"$proj/metrics"
grep -q '^kreconcile_runs_total{trigger="commit",outcome="ok"} [1-9]' "$proj/metrics" || { cat "$proj/metrics" >&2; fail "metrics: no commit runs"; }
grep -q '^kreconcile_drift_detected_total [1-9]' "$proj/metrics" || fail "metrics: no drift"
grep -q "^kreconcile_commit_info{kind=\"applied\",destination=\"\",commit=\"$d\"} 1" "$proj/metrics" ||
	fail "metrics: applied commit"
! grep -q "$(cat "$secret_file")" "$proj/metrics" "$wlog" || fail "the webhook secret leaked"
ok "/healthz, /readyz and /metrics answer"
watch_stop
[ "$wstatus" = 0 ] || fail "SIGTERM exit status $wstatus"

# ---- webhook: with a long interval only the webhook makes it look
watch_start --interval 1h --drift-interval 1h
wait_for 30 grep -q "deploying commit $(echo $d | cut -c1-7) (startup)" "$wlog" || fail "no startup run"
wait_for 30 hist_has '"trigger":"startup","commit":"'"$d"'"' || fail "startup run not finished"
e=$(commit "webhook")
ci_image "$e" v2
body="{\"ref\":\"refs/heads/main\",\"after\":\"$e\"}"
sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$(cat "$secret_file")" -r | cut -d' ' -f1)
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'X-GitHub-Event: push' \
	-H "X-Hub-Signature-256: sha256=0000$sig" --data "$body" "http://127.0.0.1:$port/webhook")
[ "$code" = 401 ] || fail "a bad signature got $code"
wait_for 5 grep -q 'refused: missing or wrong signature' "$wlog" || fail "no log line for the refused webhook"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'X-GitHub-Event: push' \
	-H "X-Hub-Signature-256: sha256=$sig" --data "$body" "http://127.0.0.1:$port/webhook")
[ "$code" = 202 ] || fail "a good signature got $code"
wait_for 40 running 1 "sample-web-$e" || { cat "$wlog" >&2; fail "the webhook did not start a deploy"; }
hist_has '"trigger":"webhook","commit":"'"$e"'"' || fail "no webhook run in the history"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data x "http://127.0.0.1:$port/reconcile")
[ "$code" = 401 ] || fail "/reconcile without the secret got $code"
ok "webhook: bad signature 401 (logged), good signature deployed commit e"
watch_stop
[ "$wstatus" = 0 ] || fail "SIGTERM exit status $wstatus"
(cd "$proj" && "$KREC" history) | sed 's/^/    /'
