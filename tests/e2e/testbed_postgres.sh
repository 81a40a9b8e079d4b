#!/bin/sh
# The postgres:15 image honours POSTGRES_USER/PASSWORD/DB, accepts password connections, refuses
# a wrong password, and keeps a row across container removal and re-creation on the same data
# directory (as a Kamal accessory with directories: does).
. "$(dirname "$0")/lib.sh"
[ "$KR_TESTBED_NHOSTS" -ge 2 ] || skip "needs 2 hosts with docker"
reg=$KR_TESTBED_REGISTRY
pw=pg-$$-secret
trap 'bed_reset 2' EXIT

run_db() {
	bed_ssh 2 "mkdir -p sample-db/data && docker run -d --name sample-db --network kamal \
		-e POSTGRES_USER=sample -e POSTGRES_DB=sample_production -e POSTGRES_PASSWORD=$pw \
		-v \$PWD/sample-db/data:/var/lib/postgresql/data -p 127.0.0.1:5432:5432 \
		$reg/postgres:15 >/dev/null"
}
psql_h2() {
	PGPASSWORD=${PGPW:-$pw} PGCONNECT_TIMEOUT=3 bed_netns 2 psql -X -q -h 127.0.0.1 -U sample \
		-d sample_production -Atc "$1"
}

bed_ssh 2 "printf '%s' '$KR_TESTBED_REGISTRY_PASSWORD' |
	docker login -u $KR_TESTBED_REGISTRY_USER --password-stdin $reg >/dev/null 2>&1 &&
	docker network create kamal >/dev/null" || fail "login or network failed"
run_db || fail "could not start postgres"
wait_for 30 psql_h2 'select 1' || fail "postgres does not accept connections: $(bed_docker 2 logs sample-db 2>&1 | tail -5)"
ok "postgres accepts a password connection to sample_production as sample"

PGPW=wrong psql_h2 'select 1' >/dev/null 2>&1 && fail "a wrong password was accepted"
ok "a wrong password is refused"

psql_h2 "create table kept (note text); insert into kept values ('survives')" || fail "insert failed"
bed_docker 2 rm -f sample-db >/dev/null
run_db || fail "could not re-create postgres"
wait_for 30 psql_h2 'select 1' || fail "re-created postgres does not accept connections"
[ "$(psql_h2 'select note from kept')" = survives ] || fail "the row did not survive re-creation"
bed_docker 2 logs sample-db 2>&1 | grep -q initialised && fail "re-created container initialised again"
ok "a row survives removing and re-creating the container on the same data directory"
