# observe_common.sh: sourced by the observe_* and plan_* end-to-end tests after lib.sh.
#   kr_project DIR             a project in DIR: a copy of the bed's sample config and its secrets
#   kamal_login I              docker login on host I as Kamal does (password on stdin)
#   kamal_env_files I ROLE..   write the env files of ROLE(s) (and "db") byte for byte as Kamal does
#   kamal_app I ROLE VERSION   start an app container exactly as Kamal 2 names, labels and runs it
#   kamal_db I                 start the db accessory as Kamal 2 does (directories, env file, port)
#   secret_values              the sample's secret values, one a line (to scan for leaks)
# Values follow tests/testbed/sample (service sample, web on host 1, worker and db on host 2).

kr_db_password=sample-db-password
kr_database_url="postgres://sample:$kr_db_password@$KR_TESTBED_HOST2:5432/sample_production"

kr_project() {
	mkdir -p "$1"
	cp -R "$KR_TESTBED_SAMPLE/config" "$KR_TESTBED_SAMPLE/.kamal" "$1/"
}

secret_values() {
	printf '%s\n' "$kr_db_password" "$kr_database_url" "$KR_TESTBED_REGISTRY_PASSWORD"
}

kamal_login() {
	printf '%s' "$KR_TESTBED_REGISTRY_PASSWORD" |
		bed_ssh "$1" docker login -u "$KR_TESTBED_REGISTRY_USER" --password-stdin \
			"$KR_TESTBED_REGISTRY" >/dev/null 2>&1 || fail "docker login on host $1"
}

# Kamal's env file: secret keys only, mode 0600, one KEY=value line each.
kamal_env_files() {
	kr_i=$1
	shift
	for kr_what in "$@"; do
		case $kr_what in
		db)
			kr_path=.kamal/apps/sample/env/accessories/db.env
			kr_body="POSTGRES_PASSWORD=$kr_db_password"
			;;
		*)
			kr_path=.kamal/apps/sample/env/roles/$kr_what.env
			kr_body="DATABASE_URL=$kr_database_url"
			;;
		esac
		printf '%s\n' "$kr_body" | bed_ssh "$kr_i" "mkdir -p \$(dirname $kr_path) &&
			umask 077 && cat > $kr_path && chmod 600 $kr_path" ||
			fail "cannot write $kr_path on host $kr_i"
	done
}

kamal_network() {
	bed_ssh "$1" 'docker network inspect kamal >/dev/null 2>&1 || docker network create kamal' \
		>/dev/null || fail "cannot create network kamal on host $1"
}

# The docker run Kamal 2 issues for an app container of a role without the proxy's labels.
kamal_app() {
	kr_i=$1 kr_role=$2 kr_v=$3
	kr_h=$(bed_host "$kr_i")
	kr_cmd=
	[ "$kr_role" = worker ] && kr_cmd="/app/start worker"
	bed_ssh "$kr_i" "docker run --detach --restart unless-stopped --name sample-$kr_role-$kr_v \
		--network kamal --hostname $kr_h-0123456789ab \
		-e KAMAL_CONTAINER_NAME=\"sample-$kr_role-$kr_v\" -e KAMAL_VERSION=\"$kr_v\" \
		-e KAMAL_HOST=\"$kr_h\" --env SAMPLE_MESSAGE=\"hello\" \
		--env-file .kamal/apps/sample/env/roles/$kr_role.env --log-opt max-size=\"10m\" \
		--label service=\"sample\" --label role=\"$kr_role\" --label destination \
		$KR_TESTBED_REGISTRY/sample-app:$kr_v $kr_cmd" >/dev/null ||
		fail "cannot start sample-$kr_role-$kr_v on host $kr_i"
}

kamal_db() {
	kr_i=$1
	kr_h=$(bed_host "$kr_i")
	bed_ssh "$kr_i" "mkdir -p \$PWD/sample-db/data && docker run --name sample-db --detach \
		--restart unless-stopped --network kamal --log-opt max-size=\"10m\" \
		--publish 127.0.0.1:5432:5432 -e KAMAL_HOST=\"$kr_h\" \
		--env POSTGRES_USER=\"sample\" --env POSTGRES_DB=\"sample_production\" \
		--env-file .kamal/apps/sample/env/accessories/db.env \
		--volume \$PWD/sample-db/data:/var/lib/postgresql/data --label service=\"sample-db\" \
		$KR_TESTBED_REGISTRY/postgres:15" >/dev/null || fail "cannot start sample-db on host $kr_i"
}
