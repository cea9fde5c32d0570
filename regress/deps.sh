#!/bin/sh
# Install the Debian 12 packages yaim needs to build and test.  Idempotent.
# usage: deps.sh [nspawn] [deb]
# A minbase root (mmdebstrap --variant=minbase) lacks some that a full
# install has: mount (check_chroot, resolve_*), passwd (useradd).
set -eu
PKGS="build-essential pkg-config clang libclang-rt-14-dev
libevent-dev libcurl4-openssl-dev libyaml-dev libcjson-dev libmnl-dev
libcap-ng-dev libpq-dev libssl-dev
etcd-server etcd-client postgresql python3 openssl iproute2 iputils-ping
mandoc valgrind procps util-linux mount passwd curl tcpdump cppcheck systemd sysvinit-utils
nftables"
# Named targets need more: "deps.sh nspawn" (make check-systemd),
# "deps.sh deb" (make deb, make check-deb).
for extra; do
	case $extra in
	nspawn) PKGS="$PKGS mmdebstrap systemd-container" ;;
	deb) PKGS="$PKGS mmdebstrap systemd-container debhelper devscripts lintian fakeroot" ;;
	*) echo "deps: unknown group $extra" >&2; exit 2 ;;
	esac
done
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
