#!/bin/sh
# Create the unprivileged user and the empty, root-owned chroot directory
# that yaimd's children use.  Idempotent.  Used by "make install" and regress.
# usage: setup-user.sh [user] [chroot]    (DESTDIR is honoured for the dir)
set -eu
user=${1:-_yaimd}
dir=${2:-/var/empty/yaimd}
if ! getent passwd "$user" >/dev/null 2>&1; then
	if [ -n "${DESTDIR:-}" ]; then
		echo "setup-user: not creating user $user under DESTDIR; create it on the target with: useradd --system --no-create-home --home-dir $dir --shell /usr/sbin/nologin $user" >&2
	else
		useradd --system --no-create-home --home-dir "$dir" \
		    --shell /usr/sbin/nologin --user-group "$user"
	fi
fi
install -d -o root -g root -m 0755 "${DESTDIR:-}$dir"
