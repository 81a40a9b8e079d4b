# watch_lib.sh: sourced by the watch_* end-to-end tests after lib.sh, observe_common.sh and
# apply_lib.sh. Each test gets a private copy of the bed's sample repository, so pushing commits
# never changes what other tests see.
#   watch_setup                 apply_setup, then $repo (bare) and $clone (its checkout) in $proj
#   commit MSG [SED-EXPR]       edit config/deploy.yml of $clone with sed (optional), commit, push;
#                               prints the new commit's sha
#   ci_image SHA FROM           what CI would do: REGISTRY/sample-app:SHA made from sample-app:FROM
#                               (its manifest copied in the registry; no docker needed)
#   watch_start ARGS...         kreconcile watch in $proj in the background ($wpid, log $wlog),
#                               webhook secret in $secret_file
#   watch_stop                  SIGTERM the watcher and wait for it; $wstatus its exit status
#   running I NAME              NAME runs on host I
#   hist_has PATTERN            `history` (JSON) of $proj has a run matching the jq-free PATTERN
#   http_get PATH / http_post PATH ARGS...   curl the watcher's listener ($port)

watch_setup() {
	apply_setup
	repo=$proj/sample.git
	clone=$proj/clone
	git clone -q --bare "$KR_TESTBED_GIT" "$repo"
	git clone -q "$repo" "$clone" 2>/dev/null
	git -C "$clone" config user.email watch@kreconcile.invalid
	git -C "$clone" config user.name watch-test
	secret_file=$proj/webhook.secret
	printf 'hook-%s\n' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$secret_file"
	chmod 600 "$secret_file"
	wpid=
	wlog=$proj/watch.log
	trap 'watch_kill; cp "$wlog" "${TMPDIR:-/tmp}/kr-$kr_test.log" 2>/dev/null; bed_reset 1 2; "$KR_TESTBED" delay 0 >/dev/null 2>&1; rm -rf "$proj"' EXIT
}

watch_kill() { [ -z "$wpid" ] || { kill -9 "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null; wpid=; } || true; }

commit() {
	kr_msg=$1
	if [ $# -ge 2 ]; then
		sed -i "$2" "$clone/config/deploy.yml"
	else
		echo "# $kr_msg" >>"$clone/config/deploy.yml"
	fi
	git -C "$clone" commit -q -am "$kr_msg"
	git -C "$clone" push -q origin HEAD:main 2>/dev/null
	git -C "$clone" rev-parse HEAD
}

ci_image() {
	kr_url=http://$KR_TESTBED_REGISTRY/v2/sample-app/manifests
	kr_mt=application/vnd.docker.distribution.manifest.v2+json
	curl -sf -u "$KR_TESTBED_REGISTRY_USER:$KR_TESTBED_REGISTRY_PASSWORD" -H "Accept: $kr_mt" \
		"$kr_url/$2" -o "$proj/.manifest" || fail "cannot read sample-app:$2 from the registry"
	curl -sf -u "$KR_TESTBED_REGISTRY_USER:$KR_TESTBED_REGISTRY_PASSWORD" -X PUT \
		-H "Content-Type: $kr_mt" --data-binary "@$proj/.manifest" "$kr_url/$1" >/dev/null ||
		fail "cannot tag sample-app:$1 in the registry"
}

watch_start() {
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	(cd "$proj" && exec "$KREC" watch --repo "$repo" --branch main --listen "127.0.0.1:$port" \
		--webhook-secret-file "$secret_file" "$@") >>"$wlog" 2>&1 &
	wpid=$!
	wait_for 10 curl -sf "http://127.0.0.1:$port/healthz" -o /dev/null ||
		{ cat "$wlog" >&2; fail "the watcher's listener did not come up"; }
}

watch_stop() {
	kill -TERM "$wpid"
	wstatus=0
	wait "$wpid" || wstatus=$?
	wpid=
}

running() {
	[ "$(bed_docker "$1" inspect -f '{{.State.Status}}' "$2" 2>/dev/null)" = running ]
}

hist() { (cd "$proj" && "$KREC" history --json -n 200); }
hist_has() { hist | tr -d ' \n' | grep -q "$1"; }

http_get() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$1"; }
