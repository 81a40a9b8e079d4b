# apply_lib.sh: sourced by the apply_* end-to-end tests after lib.sh and observe_common.sh.
#   apply_setup                 reset hosts 1 and 2, make a project in $proj (the bed's sample),
#                               and reset them again when the test exits
#   krec ARGS...                run kreconcile in the project (stdout and stderr to $out, echoed
#                               on failure by the caller); returns its exit status
#   cid I NAME                  container id of NAME on host I ("" when none)
#   names I                     names of every container on host I, sorted, one a line
#   app_get I NAME PATH         GET PATH from container NAME on host I (inside its namespace)
#   execs_since I N             SSH execs host I served since it had served N
#   new_execs I N               the commands of those execs, concatenated (from exec.d)
#   psql_db SQL                 run SQL against the db accessory on host 2 (password from the
#                               project's secrets)

apply_setup() {
	need_krec
	[ "$KR_TESTBED_NHOSTS" -ge 2 ] || skip "needs 2 hosts with docker"
	bed_reset 1 2
	proj=$(mktemp -d /tmp/kr-apply-XXXXXX)
	out=$proj/.out
	trap 'bed_reset 1 2; rm -rf "$proj"' EXIT
	kr_project "$proj"
}

krec() {
	(cd "$proj" && "$KREC" "$@") >"$out" 2>&1
}

show_out() { sed 's/^/    /' "$out" >&2; }

cid() { bed_docker "$1" ps -aq --no-trunc --filter "name=^$2\$" 2>/dev/null | head -1; }

names() { bed_docker "$1" ps -a --format '{{.Names}}' | sort; }

app_ip() {
	bed_docker "$1" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$2"
}

app_get() { bed_netns "$1" curl -s --max-time 3 "http://$(app_ip "$1" "$2")$3"; }

execs_since() { echo $(($(bed_execs "$1") - $2)); }

new_execs() {
	ls "$KR_TESTBED_DIR/h$1/exec.d" | sort | tail -n +$(($2 + 1)) |
		while read -r f; do cat "$KR_TESTBED_DIR/h$1/exec.d/$f"; echo; done
}

psql_db() {
	PGPASSWORD=${PGPW:-$kr_db_password} PGCONNECT_TIMEOUT=3 bed_netns 2 psql -X -q -h 127.0.0.1 \
		-U sample -d sample_production -Atc "$1"
}
