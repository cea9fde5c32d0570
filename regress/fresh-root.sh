#!/bin/sh
# The README's commands as a new user runs them: in a freshly bootstrapped
# Debian 12 root (mmdebstrap, minbase: nothing but the essential packages
# and apt), with Debian's standard /etc/hosts, a clean clone of this
# repository in /root/yaim, and the README's commands run as root:
#     apt-get install -y make git; make demo; make check
# The root runs in private mount and PID namespaces (pivot_root, /proc,
# /sys, /dev, a fresh /run) on the host's network, so the tests' network
# namespaces work as on a real machine.  Needs root, mmdebstrap and the
# Debian mirror that apt on this machine uses.
#
# usage: regress/fresh-root.sh [TARGET...]   (default: demo check)
# Keeps the root and its logs in $FRESH_DIR (default a new directory in
# /var/tmp) when FRESH_KEEP=1; prints the time each step took.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
targets=${*:-demo check}
[ "$(id -u)" -eq 0 ] || { echo "fresh-root: needs root" >&2; exit 77; }
command -v mmdebstrap >/dev/null 2>&1 || {
	echo "fresh-root: installing mmdebstrap"
	apt-get install -y -qq mmdebstrap >/dev/null
}

# The mirror apt uses here (deb822 or one-line sources), else Debian's.
mirror=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $0 !~ /security/ {
    for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
    /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
security=$(awk '/^URIs:/ && $2 ~ /security/ { print $2; exit }' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$security" ] || security=http://deb.debian.org/debian-security

ROOT=${FRESH_DIR:-$(mktemp -d /var/tmp/yaim-fresh.XXXXXX)}
mkdir -p "$ROOT"
LOG=$ROOT.log
step() { printf '%s fresh-root: %s\n' "$(date -u +%T)" "$*"; }
cleanup() {
	if [ "${FRESH_KEEP:-0}" = 1 ]; then
		step "kept $ROOT"
	else
		rm -rf "$ROOT"
	fi
}
trap cleanup EXIT
t0=$(date +%s)

step "bootstrapping Debian 12 (minbase) from $mirror into $ROOT"
mmdebstrap --variant=minbase --quiet bookworm "$ROOT" \
    "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
    "deb $security bookworm-security main" >"$LOG" 2>&1 ||
    { tail -n 30 "$LOG"; echo "fresh-root: mmdebstrap failed" >&2; exit 1; }
t1=$(date +%s)
step "bootstrap took $((t1 - t0)) s"

# What a Debian installer writes; getaddrinfo puts ::1 first for localhost.
cat >"$ROOT/etc/hosts" <<'H'
127.0.0.1	localhost
127.0.1.1	fresh

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
H
echo fresh >"$ROOT/etc/hostname"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
git clone -q "$TOP" "$ROOT/root/yaim"
git -C "$ROOT/root/yaim" checkout -q "$(git -C "$TOP" rev-parse HEAD)"

cat >"$ROOT/root/run.sh" <<EOF2
#!/bin/sh
# Inside the fresh root: the README's commands, nothing else.
set -u
cd /root/yaim
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq make git >/dev/null || exit 1
rc=0
for t in $targets; do
	s=\$(date +%s)
	echo "== make \$t"
	make \$t
	st=\$?
	[ \$st -eq 0 ] || rc=1
	echo "== make \$t: exit status \$st, \$((\$(date +%s) - s)) s"
done
exit \$rc
EOF2
chmod 0755 "$ROOT/root/run.sh"

step "running the README's commands in it: apt-get install make git; make $targets"
rc=0
unshare --mount --pid --fork --propagation private sh -ec '
	R=$1
	mount --bind "$R" "$R"
	mount -t proc proc "$R/proc"
	mount -t sysfs sysfs "$R/sys"
	mount --rbind /dev "$R/dev"
	mount -t tmpfs -o mode=0755 tmpfs "$R/run"
	mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
	mkdir -p "$R/.oldroot"
	cd "$R"
	pivot_root . .oldroot
	umount -l /.oldroot
	rmdir /.oldroot
	exec env -i HOME=/root TERM=dumb \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    /root/run.sh' sh "$ROOT" 2>&1 | tee -a "$LOG" || rc=1
# the pipeline's status is tee's: read make's from the log, where every
# target must have ended with status 0 (a killed run ends none)
for t in $targets; do
	grep -q "^== make $t: exit status 0," "$LOG" || rc=1
done
t2=$(date +%s)
step "the commands took $((t2 - t1)) s, $((t2 - t0)) s in all; log $LOG"
grep '^== make\|passed, .* failed' "$LOG" || true
exit $rc
