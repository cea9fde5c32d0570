# Helpers for the tests that boot or install into a Debian root
# (regress/systemd/*.sh; make check-systemd, make check-deb).  Source
# after lib.sh.

# debian_root DIR PACKAGE...: a minimal Debian 12 root in DIR with these
# packages, made by mmdebstrap.  The root is kept as a tarball under
# $ROOT_CACHE (default /var/tmp/yaim-roots), named by the package list, so
# that a second run unpacks it in seconds; ROOT_CACHE=none makes it anew.
debian_root() {
	local dir=$1 cache=${ROOT_CACHE:-/var/tmp/yaim-roots} key tar
	shift
	need_cmd mmdebstrap
	key=$(echo "bookworm $*" | md5sum | cut -c1-12)
	tar=$cache/root-$key.tar
	mkdir -p "$dir"
	if [ "$cache" != none ] && [ -s "$tar" ]; then
		log "root: unpacking $tar"
		tar -C "$dir" -xf "$tar" || fail "unpack $tar"
		return 0
	fi
	log "root: mmdebstrap bookworm with $*"
	local inc; inc=$(echo "$*" | tr ' ' ',')
	mmdebstrap --variant=apt --include="$inc" bookworm "$dir" \
	    >"$T/mmdebstrap.log" 2>&1 ||
	    { tail -n 20 "$T/mmdebstrap.log"; fail "mmdebstrap"; }
	if [ "$cache" != none ]; then
		mkdir -p "$cache"
		tar -C "$dir" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
	fi
}

# boot_root DIR NETNS: boot DIR with systemd-nspawn in the network
# namespace NETNS (one the test made); sets NSPAWN_PID and LEADER (the
# container's PID 1, as seen from here) once systemd is up.
boot_root() {
	local dir=$1 ns=$2 i state
	need_cmd systemd-nspawn nsenter
	# CAP_NET_ADMIN: nspawn grants it only with a network it made itself
	systemd-nspawn -q -D "$dir" -M "yaimt$$" --register=no --keep-unit \
	    --capability=CAP_NET_ADMIN \
	    --network-namespace-path="/run/netns/$ns" -b --console=pipe \
	    </dev/null >"$T/console.log" 2>&1 &
	NSPAWN_PID=$!
	track_pid "$NSPAWN_PID"
	# the first child may be nspawn's outer child, which exits: ask anew
	# until the container's systemd answers
	for i in $(seq 1 300); do
		LEADER=$(cat "/proc/$NSPAWN_PID/task/$NSPAWN_PID/children" \
		    2>/dev/null | awk '{ print $1 }')
		kill -0 "$NSPAWN_PID" 2>/dev/null ||
		    { cat "$T/console.log"; fail "systemd-nspawn exited"; }
		if [ -n "$LEADER" ] &&
		    [ "$(cat "/proc/$LEADER/comm" 2>/dev/null)" = systemd ]; then
			state=$(in_root systemctl is-system-running 2>/dev/null)
			case $state in running|degraded) return 0 ;; esac
		fi
		sleep 0.2
	done
	tail -n 30 "$T/console.log"
	fail "the container did not boot (state: ${state:-})"
}

# in_root CMD...: run CMD in the booted container, in all its namespaces.
in_root() { nsenter -t "$LEADER" -a "$@"; }

# halt_root: power the container off and wait for systemd-nspawn.
halt_root() {
	in_root systemctl poweroff >/dev/null 2>&1
	wait_until 30 bash -c "! kill -0 $NSPAWN_PID 2>/dev/null" ||
	    fail "the container did not power off"
}
