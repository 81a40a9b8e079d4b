#!/bin/sh
# The watcher's status page in a real browser (Debian's headless Chromium): after a deploy it
# shows every host with its role's running version, the accessory, the env files and the lock,
# the commit applied against the newest seen, and the last runs linking to /runs/N (plan and
# journal). The branch watched is named like markup, and must show as text: no element comes
# from it. A screenshot of the page is saved (docs/watch.md shows one taken by this test).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/observe_common.sh"
. "$(dirname "$0")/apply_lib.sh"
. "$(dirname "$0")/watch_lib.sh"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || fail "no chromium: .ci/install-deps installs it (apt-get install chromium)"
watch_setup

hostile='<img/src=x/onerror=alert(1)>'
git -C "$clone" push -q origin "HEAD:refs/heads/$hostile" 2>/dev/null || fail "cannot push the branch"
a=$(git -C "$clone" rev-parse HEAD)
ci_image "$a" v1
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$proj" && exec "$KREC" watch --repo "$repo" --branch "$hostile" --listen "127.0.0.1:$port" \
	--interval 2s --drift-interval 1h) >>"$wlog" 2>&1 &
wpid=$!
wait_for 60 grep -q "commit $(echo $a | cut -c1-7) applied; hosts match" "$wlog" ||
	{ cat "$wlog" >&2; fail "the startup deploy did not finish"; }

chrome() {
	# a fresh profile each time; root needs --no-sandbox
	"$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
		--user-data-dir="$proj/chrome" --hide-scrollbars "$@" 2>"$proj/chrome.err"
}
chrome --dump-dom "http://127.0.0.1:$port/" >"$proj/dom.html" || { cat "$proj/chrome.err" >&2; fail "chromium failed"; }
grep -q '<title>kreconcile watch</title>' "$proj/dom.html" || { head -c 600 "$proj/dom.html" >&2; fail "not the status page"; }
for want in "$KR_TESTBED_HOST1" "$KR_TESTBED_HOST2" "$a" 'class="pill">web<' 'class="pill">worker<' \
	'db: running' '.kamal/apps/sample/env/roles/web.env' '(newest)' 'href="/runs/1"' 'startup'; do
	grep -qF -- "$want" "$proj/dom.html" || { cp "$proj/dom.html" /tmp/dom-fail.html; fail "the page does not show '$want'"; }
done
grep -qF '&lt;img/src=x/onerror=alert(1)&gt;' "$proj/dom.html" || fail "the branch name is not shown as text"
! grep -q '<img' "$proj/dom.html" || fail "markup from the branch name became an element"
! grep -qF -f /dev/stdin "$proj/dom.html" <<S || fail "a secret value is on the page"
$kr_db_password
$KR_TESTBED_REGISTRY_PASSWORD
S
ok "the status page shows hosts, versions, accessory, env files, runs; the hostile branch name is text"

chrome --dump-dom "http://127.0.0.1:$port/runs/1" >"$proj/run.html" || fail "chromium failed on /runs/1"
for want in '<h1>run 1</h1>' 'Plan' 'Journal' "$KR_TESTBED_HOST1/app/web" 'acquire'; do
	grep -qF -- "$want" "$proj/run.html" || fail "/runs/1 does not show '$want'"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/runs/999")" = 404 ] || fail "/runs/999 is not 404"
ok "/runs/1 shows the plan and the journal"

shot=${KR_SCREENSHOT:-${TMPDIR:-/tmp}/kreconcile-watch-status.png}
chrome --window-size=1280,760 --screenshot="$shot" "http://127.0.0.1:$port/" >/dev/null ||
	{ cat "$proj/chrome.err" >&2; fail "no screenshot"; }
[ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "the screenshot is not a PNG"
ok "screenshot of the status page: $shot"
watch_stop
[ "$wstatus" = 0 ] || fail "exit $wstatus"
