#!/bin/sh
# Create the unprivileged users and the empty, root-owned chroot directory
# that yaimd uses: one user per role, <user>-checker, <user>-dcs and
# <user>-exec (yaimd(8), DESIGN.md section 11), each with its own group.
# Idempotent.  Used by "make install" and regress.
# usage: setup-user.sh [user] [chroot]    (DESTDIR is honoured for the dir)
set -eu
user=${1:-_yaimd}
dir=${2:-/var/empty/yaimd}
for role in checker dcs exec; do
	name=$user-$role
	getent passwd "$name" >/dev/null 2>&1 && continue
	if [ -n "${DESTDIR:-}" ]; then
		echo "setup-user: not creating user $name under DESTDIR; create it on the target with: useradd --system --no-create-home --home-dir $dir --shell /usr/sbin/nologin --user-group $name" >&2
	else
		useradd --system --no-create-home --home-dir "$dir" \
		    --shell /usr/sbin/nologin --user-group "$name"
	fi
done
install -d -o root -g root -m 0755 "${DESTDIR:-}$dir"
