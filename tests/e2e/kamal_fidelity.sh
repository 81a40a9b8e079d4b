#!/bin/sh
# Kamal fidelity (issue 10, items 3-5, 7, 8). A host laid out with Kamal 2.12's exact commands
# (tests/e2e/kamal_fidelity/kamal-2.12/: docker run lines and env file bytes Kamal printed for
# kamal_fidelity/config/deploy.yml) plans as "No changes": clear env values Kamal escapes
# (${HOME}, \n, \t, #{, quotes, backslashes, backticks, blank values, non-ASCII), docker run
# options docker inspect shows (cpus, memory, memory-swap, shm-size, add-host, cap-add, cap-drop,
# device, ulimit, publish, init, user, workdir, stop-signal, entrypoint, health-interval,
# stop-timeout), accessory files mounted read-only. Changing one option, one
# value or one mount is named in the plan; an env file written after the container was created
# is seen; a re-pushed tag is "image digest changed". Then kreconcile's own apply of the same
# configuration gives the same docker inspect fields and env file bytes as Kamal's commands.
. "$(dirname "$0")/lib.sh"
need_krec
fix="$KR_SOURCE_DIR/tests/e2e/kamal_fidelity"
work=$(mktemp -d)
trap 'bed_reset 1 2; rm -rf "$work"' EXIT
bed_reset 1 2
mkdir -p "$work/p"
cp -R "$fix/config" "$fix/.kamal" "$work/p/"
cd "$work/p"
h1=$(bed_host 1)

# Kamal's recorded line with this bed's addresses.
kamal_line() {
	sed -e "s|@HOST1@|$h1|g" -e "s|@REGISTRY@|$KR_TESTBED_REGISTRY|g" "$fix/kamal-2.12/$1"
}

# Host 1 as `kamal setup` leaves it: network, login, env files (0600), the accessory's files
# (mode 755) and directory, then the two `docker run` lines, run by the host's shell.
kamal_layout() {
	bed_ssh 1 'docker network inspect kamal >/dev/null 2>&1 || docker network create kamal' \
		>/dev/null || fail "network"
	printf '%s' "$KR_TESTBED_REGISTRY_PASSWORD" | bed_ssh 1 docker login -u kr \
		--password-stdin "$KR_TESTBED_REGISTRY" >/dev/null 2>&1 || fail "docker login"
	bed_ssh 1 'mkdir -p .kamal/apps/kf/env/roles .kamal/apps/kf/env/accessories kf-cache/etc' ||
		fail "mkdir"
	bed_ssh 1 'umask 077 && cat > .kamal/apps/kf/env/roles/web.env' <"$fix/kamal-2.12/web.env"
	bed_ssh 1 'umask 077 && cat > .kamal/apps/kf/env/accessories/cache.env' \
		<"$fix/kamal-2.12/cache.env"
	for f in a b c; do
		bed_ssh 1 "cat > kf-cache/etc/$f.conf && chmod 755 kf-cache/etc/$f.conf" \
			<"$fix/config/$f.conf" || fail "upload $f.conf"
	done
	bed_ssh 1 'mkdir -p $PWD/kf-cache/data' || fail "mkdir data"
	# kamal deploy pulls the app image first; accessory boot lets docker run pull
	bed_ssh 1 "docker pull -q $KR_TESTBED_REGISTRY/kf-repush:v1" >/dev/null || fail "pull"
	bed_ssh 1 "$(kamal_line cache.run)" >/dev/null || fail "Kamal's accessory run failed"
	bed_ssh 1 "$(kamal_line web.run)" >/dev/null || fail "Kamal's app run failed"
}

# What must be equal between Kamal's containers and kreconcile's: the env as the process gets
# it, the docker inspect fields options set, mounts, ports, labels Kamal sets, restart, logging.
inspect_fields() {
	bed_docker 1 inspect "$1" | python3 -c '
import json, sys
c = json.load(sys.stdin)[0]
hc, cf = c["HostConfig"], c["Config"]
env = sorted(e for e in cf["Env"] if "=" in e)
keep = ["NanoCpus", "Memory", "MemorySwap", "ShmSize", "ExtraHosts", "CapAdd", "CapDrop",
        "Devices", "Ulimits", "PortBindings", "Init", "RestartPolicy", "LogConfig", "NetworkMode"]
out = {"env": env, "cmd": cf["Cmd"], "user": cf.get("User"), "workdir": cf.get("WorkingDir"),
       "entrypoint": cf.get("Entrypoint"), "stop_signal": cf.get("StopSignal"), "image": cf["Image"],
       "stop_timeout": cf.get("StopTimeout"), "healthcheck": cf.get("Healthcheck"),
       "labels": {k: v for k, v in cf["Labels"].items() if not k.startswith("kreconcile.")},
       "mounts": sorted((m["Destination"], m["Source"], m["RW"], m["Mode"]) for m in c["Mounts"])}
for k in keep:
    out[k] = hc.get(k)
print(json.dumps(out, indent=1, sort_keys=True))
'
}

# Push sample-app:VERSION as kf-repush:v1 from host 2's engine (host 1 keeps what it pulled).
repush() {
	printf '%s' "$KR_TESTBED_REGISTRY_PASSWORD" | bed_ssh 2 docker login -u kr \
		--password-stdin "$KR_TESTBED_REGISTRY" >/dev/null 2>&1 || fail "docker login on host 2"
	bed_ssh 2 "docker pull -q $KR_TESTBED_REGISTRY/sample-app:$1 >/dev/null &&
		docker tag $KR_TESTBED_REGISTRY/sample-app:$1 $KR_TESTBED_REGISTRY/kf-repush:v1 &&
		docker push $KR_TESTBED_REGISTRY/kf-repush:v1 >/dev/null" || fail "push kf-repush:v1 ($1)"
}
repush v1

kamal_layout
wait_for 20 sh -c "[ \"\$(DOCKER_HOST=$KR_TESTBED_DOCKER_H1 /usr/bin/docker inspect -f \
	'{{.State.Status}}' kf-web-v1 kf-cache | sort -u)\" = running ]" ||
	fail "Kamal's containers are not running: $(bed_docker 1 ps -a)"
cenv() { bed_docker 1 exec kf-web-v1 sh -c "printf %s \"\${$1-(unset)}\""; }
[ "$(cenv NEWLINE)" = 'a\nb' ] || fail "Kamal's NEWLINE is not the literal \\n: $(cenv NEWLINE)"
[ "$(cenv EMPTY)" = '(unset)' ] || fail "Kamal's EMPTY is set: $(cenv EMPTY)"
[ "$(cenv DOLLAR_BRACE)" = "$KR_TESTBED_DIR/h1/home/x" ] ||
	fail "Kamal's DOLLAR_BRACE is not the host's \$HOME/x: $(cenv DOLLAR_BRACE)"
ok "host laid out with Kamal 2.12's commands (NEWLINE holds a literal \\n, EMPTY unset)"

plan() { # plan [-c FILE]: exit code in $rc, output in $work/out
	rc=0
	"$KREC" "$@" plan --app-version v1 --detailed-exitcode >"$work/out" 2>"$work/err" || rc=$?
}
plan
[ $rc = 0 ] || fail "plan of Kamal's containers exited $rc: $(cat "$work/out" "$work/err")"
[ "$(cat "$work/out")" = "No changes. Hosts match the configuration." ] ||
	fail "plan of Kamal's containers: $(cat "$work/out")"
ok "Kamal-made containers with escaped env, options and ro files plan as No changes"
# What Kamal's commands made, to compare kreconcile's own containers with at the end.
inspect_fields kf-web-v1 >"$work/kamal-web.json"
grep -qF '"NEWLINE=a\\nb"' "$work/kamal-web.json" ||
	fail "inspect fields lack NEWLINE: $(cat "$work/kamal-web.json")"
inspect_fields kf-cache >"$work/kamal-cache.json"

# One change at a time: the plan names it (exit 2).
expect_change() { # SED-EXPR ADDRESS REASON-TEXT
	sed "$1" config/deploy.yml >config/deploy.changed.yml
	cmp -s config/deploy.yml config/deploy.changed.yml && fail "setup: '$1' changed nothing"
	plan -c config/deploy.changed.yml
	[ $rc = 2 ] || fail "'$1': plan exited $rc: $(cat "$work/out" "$work/err")"
	grep -q "^  # $h1/$2 will be replaced$" "$work/out" ||
		fail "'$1': $2 not replaced: $(cat "$work/out")"
	grep -qF -- "$3" "$work/out" || fail "'$1': no '$3' in: $(cat "$work/out")"
}
expect_change 's/cpus: 1.5/cpus: 2/' app/web "options changed: cpus"
expect_change 's/memory: 256m/memory: 300m/' app/web "options changed: memory"
expect_change 's/shm-size: 32m/shm-size: 64m/' app/web "options changed: shm-size"
expect_change 's/"cache.internal:10.1.2.4"/"cache.internal:10.1.2.5"/' app/web \
	"options changed: add-host"
expect_change 's/cap-add: \[NET_ADMIN, SYS_TIME\]/cap-add: [NET_ADMIN]/' app/web \
	"options changed: cap-add"
expect_change '/device: \/dev\/fuse/d' app/web "options changed: device"
expect_change 's/nproc=512/nproc=600/' app/web "options changed: ulimit"
expect_change 's/127.0.0.1:8080:80/127.0.0.1:8081:80/' accessory/cache "ports changed"
expect_change '/init: true/d' app/web "options changed: init"
expect_change 's/user: "0:0"/user: "0"/' app/web "options changed: user"
expect_change 's|workdir: /tmp|workdir: /|' app/web "options changed: workdir"
expect_change 's/stop-signal: SIGINT/stop-signal: SIGTERM/' app/web "options changed: stop-signal"
expect_change 's|cap-add: SYS_NICE|cap-add: SYS_ADMIN|' accessory/cache "options changed: cap-add"
expect_change 's|entrypoint: /app/start|entrypoint: /bin/sh|' accessory/cache \
	"options changed: entrypoint"
expect_change 's|health-interval: 5s|health-interval: 6s|' accessory/cache \
	"options changed: health-interval"
expect_change 's|stop-timeout: 7|stop-timeout: 8|' accessory/cache "options changed: stop-timeout"
expect_change 's|NEWLINE: "a\\nb"|NEWLINE: "a\\nc"|' app/web "clear env changed: NEWLINE"
expect_change 's|DOLLAR_BRACE: "${HOME}/x"|DOLLAR_BRACE: "${HOME}/y"|' app/web \
	"clear env changed: DOLLAR_BRACE"
expect_change 's|config/a.conf:/etc/a.conf:ro|config/a.conf:/etc/a.conf|' accessory/cache \
	"file config/a.conf is mounted ro, not rw"
ok "a changed option, env value or mount of a Kamal-made container is named in the plan"

# Item 8: the env file rewritten after the container was created (a crash before the restart).
sleep 1
bed_ssh 1 'touch .kamal/apps/kf/env/roles/web.env'
plan
[ $rc = 2 ] || fail "an env file newer than its container exited $rc: $(cat "$work/out")"
grep -q "env file was written after the container was created" "$work/out" ||
	fail "no reason for the newer env file: $(cat "$work/out")"
ok "an env file written after its Kamal-made container was created is a change"

# Item 7: the tag pushed again with other content: "image digest changed", pulled again by apply.
repush v2
plan --no-digest-check
grep -q "digest" "$work/out" && fail "--no-digest-check still checked: $(cat "$work/out")"
plan
[ $rc = 2 ] || fail "a re-pushed tag exited $rc: $(cat "$work/out" "$work/err")"
grep -q "image digest changed (sha256:.*: the tag was pushed again)" "$work/out" ||
	fail "no digest change in the plan: $(cat "$work/out")"
"$KREC" apply --app-version v1 --auto-approve >"$work/apply.out" 2>&1 ||
	fail "apply of the re-pushed tag failed: $(cat "$work/apply.out")"
v2id=$(bed_docker 2 image inspect -f '{{.Id}}' "$KR_TESTBED_REGISTRY/sample-app:v2")
[ "$(bed_docker 1 ps --filter label=role=web --format '{{.Image}} {{.ID}}' | wc -l)" = 1 ] ||
	fail "not one web container running: $(bed_docker 1 ps)"
[ "$(bed_docker 1 inspect -f '{{.Image}}' \
	"$(bed_docker 1 ps -q --filter label=role=web)")" = "$v2id" ] ||
	fail "apply did not pull the re-pushed tag again"
plan
[ $rc = 0 ] || fail "plan after the re-pull exited $rc: $(cat "$work/out")"
ok "a re-pushed tag: 'image digest changed' (not with --no-digest-check), pulled again by apply"
repush v1

# kreconcile's own containers of the same configuration: the same inspect fields, env bytes.
bed_reset 1
"$KREC" apply --app-version v1 --auto-approve >"$work/out" 2>"$work/err" ||
	fail "apply failed: $(cat "$work/out" "$work/err")"
inspect_fields kf-web-v1 >"$work/kr-web.json"
inspect_fields kf-cache >"$work/kr-cache.json"
diff -u "$work/kamal-web.json" "$work/kr-web.json" ||
	fail "kreconcile's web container differs from Kamal's (above)"
diff -u "$work/kamal-cache.json" "$work/kr-cache.json" ||
	fail "kreconcile's accessory container differs from Kamal's (above)"
bed_ssh 1 'cat .kamal/apps/kf/env/roles/web.env' | cmp -s - "$fix/kamal-2.12/web.env" ||
	fail "web.env bytes differ from Kamal's"
bed_ssh 1 'cat .kamal/apps/kf/env/accessories/cache.env' | cmp -s - "$fix/kamal-2.12/cache.env" ||
	fail "cache.env bytes differ from Kamal's"
plan
[ $rc = 0 ] || fail "plan after apply exited $rc: $(cat "$work/out")"
ok "kreconcile's apply gives Kamal's docker inspect fields and env file bytes; then No changes"
