#!/bin/sh
# The Debian package: a release build (no sanitizers) packed by `cpack -G
# DEB`, its control fields and contents, its Depends checked against the
# libraries the binary really loads, then installed with dpkg into a fresh
# root that holds only the packages its Depends name (and theirs, copied
# from this machine; dpkg checks the Depends without any --force), run there
# chrooted (an undeclared library would stop it): --version, validate on the
# sample configs, the man page and completions, and purged without a trace.
# Nothing is installed on this machine itself.
set -eu
: "${KR_SOURCE_DIR:?}" "${KR_PKG_BUILD:?a build directory for the package}"
ok() { printf 'ok - %s\n' "$*"; }
fail() {
	printf 'FAIL - package: %s\n' "$*" >&2
	exit 1
}
skip() {
	printf 'SKIP - package: %s\n' "$*"
	exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root (chroot, files owned by root)"
for tool in cpack dpkg dpkg-deb dpkg-shlibdeps dpkg-query readelf python3 zsh; do
	command -v "$tool" >/dev/null 2>&1 ||
		fail "'$tool' is missing: run .ci/install-deps"
done

# 1. A release build and its package. The tree is kept between runs.
cmake -S "$KR_SOURCE_DIR" -B "$KR_PKG_BUILD" -DCMAKE_BUILD_TYPE=Release \
	-DKR_TESTS=OFF -DKR_E2E=OFF -DKR_SANITIZE=OFF -DKR_WERROR=ON >/dev/null ||
	fail "cmake configure"
cmake --build "$KR_PKG_BUILD" -j"${KR_JOBS:-2}" >"$KR_PKG_BUILD/build.log" 2>&1 ||
	fail "build failed: $(tail -5 "$KR_PKG_BUILD/build.log")"
rm -f "$KR_PKG_BUILD"/kreconcile_*.deb
(cd "$KR_PKG_BUILD" && cpack -G DEB) >"$KR_PKG_BUILD/cpack.log" 2>&1 ||
	fail "cpack -G DEB failed: $(tail -5 "$KR_PKG_BUILD/cpack.log")"
version=$(sed -n 's/^project(kreconcile VERSION \([0-9.]*\).*/\1/p' "$KR_SOURCE_DIR/CMakeLists.txt")
arch=$(dpkg --print-architecture)
deb=$KR_PKG_BUILD/kreconcile_${version}_$arch.deb
[ -f "$deb" ] || fail "cpack made no $deb: $(ls "$KR_PKG_BUILD"/*.deb 2>&1)"
ok "cpack -G DEB: $(basename "$deb") ($(($(stat -c %s "$deb") / 1024)) KiB)"

# 2. Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = kreconcile ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version)"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
depends=$(field Depends)
[ -n "$depends" ] || fail "no Depends"
case $depends in *asan* | *ubsan*) fail "Depends names a sanitizer runtime: $depends" ;; esac
ok "Depends: $depends"
cl=$(dpkg-parsechangelog -l "$KR_SOURCE_DIR/dist/debian/changelog" -S Version)
[ "$cl" = "$version" ] ||
	fail "dist/debian/changelog's last entry is $cl, the project is $version: add an entry"

# Debian's own checker, when installed (it is not in .ci/install-deps: 128
# packages). The package has no copyright file: the project has no licence
# yet, and that is the one tag allowed.
if command -v lintian >/dev/null 2>&1; then
	lintian --tag-display-limit 0 "$deb" >"$KR_PKG_BUILD/lintian.log" 2>&1 || true
	bad=$(grep -E '^[EW]: ' "$KR_PKG_BUILD/lintian.log" | grep -v ' no-copyright-file' || true)
	[ -z "$bad" ] || fail "lintian: $bad"
	ok "lintian: no error or warning but no-copyright-file (the project has no licence yet)"
else
	echo "note - lintian is not installed: the package was not checked by it"
fi

# 3. Every library the binary loads belongs to a package named in Depends.
work=$(mktemp -d /var/tmp/kr-package.XXXXXX)
root=$work/root
trap 'rm -rf "$work"' EXIT INT TERM
dpkg-deb -x "$deb" "$work/x"
bin=$work/x/usr/bin/kreconcile
[ -x "$bin" ] || fail "no /usr/bin/kreconcile in the package"
dep_names=" $(printf '%s\n' "$depends" | tr ',' '\n' | sed 's/(.*//; s/|.*//; s/ //g' | tr '\n' ' ') "
for lib in $(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
	real=$(readlink -f "$lib")
	owner=$(dpkg-query -S "$lib" 2>/dev/null || dpkg-query -S "$real" 2>/dev/null ||
		dpkg-query -S "/usr$real" 2>/dev/null || true)
	owner=${owner%%:*}
	[ -n "$owner" ] || fail "no package owns $lib"
	case $dep_names in
	*" $owner "*) ;;
	*)
		# a library pulled in by a declared library (libssh's libssl3)
		# is that package's dependency, not ours, when not NEEDED
		if readelf -d "$bin" | grep -q "NEEDED.*\[$(basename "$lib")\]"; then
			fail "$bin needs $(basename "$lib") of $owner, not in Depends: $depends"
		fi
		;;
	esac
done
ok "every library the binary names (readelf NEEDED) is of a package in Depends"

# 4. Contents: the files, their owners and modes, nothing outside /usr.
dpkg-deb -c "$deb" >"$work/contents"
want="./usr/bin/kreconcile ./usr/share/man/man1/kreconcile.1.gz
./usr/share/doc/kreconcile/changelog.gz
./usr/share/bash-completion/completions/kreconcile
./usr/share/zsh/vendor-completions/_kreconcile"
for unit in "$KR_SOURCE_DIR"/dist/systemd/*.service "$KR_SOURCE_DIR"/dist/systemd/*.socket \
	"$KR_SOURCE_DIR"/dist/systemd/*.timer "$KR_SOURCE_DIR"/dist/systemd/*.path; do
	[ -f "$unit" ] || continue
	want="$want ./usr/lib/systemd/system/$(basename "$unit")"
done
for f in $want; do
	grep -q " $f\$" "$work/contents" || fail "$f is not in the package: $(cat "$work/contents")"
done
awk '$1 !~ /^d/ { print $6 }' "$work/contents" | sort >"$work/files"
for f in $want; do echo "$f"; done | sort >"$work/files.want"
diff -u "$work/files.want" "$work/files" >&2 || fail "the package holds other files than these"
awk '$2 != "root/root" { bad = 1 } END { exit bad }' "$work/contents" ||
	fail "files not owned by root: $(awk '$2 != "root/root"' "$work/contents")"
grep -q '^-rwxr-xr-x .* ./usr/bin/kreconcile$' "$work/contents" || fail "the binary is not 0755"
if awk '$1 ~ /^-/ && $6 != "./usr/bin/kreconcile" && $1 != "-rw-r--r--" { bad = 1 } END { exit !bad }' "$work/contents"; then
	fail "a data file is not 0644"
fi
ok "contents: $(echo $want)"

# 5. A fresh root holding only the dependency closure of Depends, copied from
# this machine's installed packages, and a dpkg database listing just them.
mkdir -p "$root/usr/lib" "$root/usr/lib64" \
	"$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" \
	"$root/var/lib/dpkg/triggers" "$root/tmp" "$root/etc"
for d in bin sbin lib lib64; do ln -s "usr/$d" "$root/$d"; done
: >"$root/var/lib/dpkg/status"
: >"$root/var/lib/dpkg/available"
python3 - "$depends" >"$work/closure" <<'PY' || fail "cannot resolve the Depends on this machine"
# The installed packages that satisfy a Depends line, transitively.
import subprocess, sys
out = subprocess.run(["dpkg-query", "-W", "-f",
    "${Package}\x1f${db:Status-Abbrev}\x1f${Provides}\x1f${Depends}\x1f${Pre-Depends}\n"],
    capture_output=True, text=True, check=True).stdout
pkgs, provides = {}, {}
for line in out.splitlines():
    name, status, prov, dep, pre = line.split("\x1f")
    if not status.startswith("ii") or name in pkgs:
        continue
    pkgs[name] = ", ".join(x for x in (dep, pre) if x)
    for p in prov.split(","):
        p = p.split("(")[0].strip()
        if p:
            provides.setdefault(p, name)
def resolve(group):
    for alt in group.split("|"):
        n = alt.split("(")[0].split(":")[0].strip()
        if n in pkgs:
            return n
        if n in provides:
            return provides[n]
    sys.exit("unsatisfied on this machine: " + group.strip())
todo, seen = [sys.argv[1]], set()
while todo:
    for group in todo.pop().split(","):
        if not group.strip():
            continue
        n = resolve(group)
        if n not in seen:
            seen.add(n)
            todo.append(pkgs[n])
print("\n".join(sorted(seen)))
PY
for p in $(cat "$work/closure"); do
	dpkg-query -s "$p" >>"$root/var/lib/dpkg/status"
	echo >>"$root/var/lib/dpkg/status"
	for f in /var/lib/dpkg/info/"$p".list /var/lib/dpkg/info/"$p":*.list \
		/var/lib/dpkg/info/"$p".md5sums /var/lib/dpkg/info/"$p":*.md5sums; do
		[ ! -f "$f" ] || cp -a "$f" "$root/var/lib/dpkg/info/"
	done
	dpkg-query -L "$p" | while IFS= read -r f; do
		if [ ! -d "$f" ] && { [ -L "$f" ] || [ -f "$f" ]; }; then
			mkdir -p "$root$(dirname "$f")"
			cp -a "$f" "$root$f"
		fi
	done
done
ok "fresh root: $(wc -l <"$work/closure") packages (the closure of Depends), $(du -sm "$root" | cut -f1) MiB"
find "$root" -path "$root/var/lib/dpkg" -prune -o -print | sort >"$work/before"

# 6. Install with dpkg, no --force.
dpkg --root="$root" -i "$deb" >"$work/dpkg-i.log" 2>&1 ||
	fail "dpkg -i into the fresh root: $(cat "$work/dpkg-i.log")"
st=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${db:Status-Abbrev}' kreconcile)
[ "$st" = "ii " ] || fail "after dpkg -i the status is '$st'"
ok "dpkg --root -i: installed"
sed 's/^/  dpkg: /' "$work/dpkg-i.log"

# 7. It runs there, with only the declared libraries present.
got=$(chroot "$root" /usr/bin/kreconcile --version 2>&1) || fail "kreconcile --version in the root: $got"
[ "$got" = "kreconcile $version" ] || fail "kreconcile --version printed '$got'"
ok "chroot: $got"
mkdir -p "$root/tmp/multi" "$root/tmp/sample"
cp -a "$KR_SOURCE_DIR/tests/fixtures/config/multi/." "$root/tmp/multi/"
cp -a "$KR_SOURCE_DIR/tests/testbed/sample/." "$root/tmp/sample/"
got=$(chroot "$root" /usr/bin/kreconcile -C /tmp/multi -d staging validate 2>&1) ||
	fail "validate of the multi fixture: $got"
case $got in "shop -d staging: valid;"*) ;; *) fail "validate printed: $got" ;; esac
ok "chroot: kreconcile -C /tmp/multi -d staging validate: $got"
got=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin KR_TESTBED_HOST1=198.18.99.11 KR_TESTBED_HOST2=198.18.99.12 \
	KR_TESTBED_REGISTRY=198.18.99.1:5000 KR_TESTBED_SSH_KEY=/tmp/key \
	KR_TESTBED_KNOWN_HOSTS=/tmp/known_hosts \
	chroot "$root" /usr/bin/kreconcile -C /tmp/sample validate --skip-secrets 2>&1) ||
	fail "validate of the sample app: $got"
case $got in "sample: valid;"*) ;; *) fail "validate printed: $got" ;; esac
ok "chroot: kreconcile -C /tmp/sample validate --skip-secrets (the bed's sample app): $got"
chroot "$root" /usr/bin/kreconcile -C /tmp/multi validate --no-such-option >/dev/null 2>&1 && rc=0 || rc=$?
[ "$rc" = 64 ] || fail "an unknown option exits $rc in the root, not 64"

# 8. The man page and the completions, as installed.
man=$root/usr/share/man/man1/kreconcile.1.gz
gzip -t "$man" || fail "the man page is not gzip"
page=$(MANWIDTH=80 man -l "$man" 2>"$work/man.err") || fail "man -l: $(cat "$work/man.err")"
printf '%s\n' "$page" | grep -q '^NAME' || fail "the man page has no NAME section"
printf '%s\n' "$page" | grep -q 'kreconcile' || fail "the man page does not name kreconcile"
ok "man page renders ($(printf '%s\n' "$page" | wc -l) lines)"
bashc=$root/usr/share/bash-completion/completions/kreconcile
chroot "$root" /usr/bin/kreconcile completion bash | cmp -s - "$bashc" ||
	fail "the installed bash completion differs from 'kreconcile completion bash'"
got=$(bash --norc --noprofile -c '. "$1" && complete -p kreconcile &&
	COMP_WORDS=(kreconcile pl) COMP_CWORD=1 && _kreconcile && echo "${COMPREPLY[*]}"' sh "$bashc") ||
	fail "the installed bash completion does not load: $got"
[ "$got" = "complete -F _kreconcile kreconcile
plan" ] || fail "installed bash completion: $got"
zshc=$root/usr/share/zsh/vendor-completions/_kreconcile
chroot "$root" /usr/bin/kreconcile completion zsh | cmp -s - "$zshc" ||
	fail "the installed zsh completion differs from 'kreconcile completion zsh'"
zsh -n "$zshc" || fail "zsh -n on the installed zsh completion"
head -1 "$zshc" | grep -qx '#compdef kreconcile' || fail "the zsh completion lacks #compdef"
# Debian's zsh looks in /usr/share/zsh/vendor-completions
zsh -fc 'autoload -Uz compinit; compinit -u -D; print -l $fpath' |
	grep -qx /usr/share/zsh/vendor-completions ||
	fail "zsh's \$fpath lacks /usr/share/zsh/vendor-completions"
ok "bash and zsh completions installed where bash-completion and zsh look"

# 9. Purge: nothing of the package is left.
dpkg --root="$root" -P kreconcile >"$work/dpkg-P.log" 2>&1 ||
	fail "dpkg -P: $(cat "$work/dpkg-P.log")"
st=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${db:Status-Abbrev}' kreconcile 2>/dev/null || true)
case $st in "" | "un "* | "pn "*) ;; *) fail "after dpkg -P the status is '$st'" ;; esac
rm -rf "$root/tmp/multi" "$root/tmp/sample"
find "$root" -path "$root/var/lib/dpkg" -prune -o -print | sort >"$work/after"
diff -u "$work/before" "$work/after" >&2 || fail "dpkg -P left files behind (or removed others)"
left=$(ls "$root/var/lib/dpkg/info" | grep '^kreconcile\.' || true)
[ -z "$left" ] || fail "dpkg -P left $left in the database"
ok "dpkg --root -P: the root is as before the install"
