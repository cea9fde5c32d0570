#!/usr/bin/env bash
# The README's code against the tools: every make target it names exists;
# the commands of its code blocks parse and exist, and the apt-get ones
# work (simulated); its yaim.yml example passes yaimd -n and means the
# same as yaim.yml (yaimd -nv prints the same); its etcdctl lines use the
# example's prefix and do what they say against a real etcd; yaimd -V and
# -h answer as the README and yaimd.8 say.  Fails whenever the README and
# the tools disagree.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip python3 make
[ -x "$YAIMD" ] || fail "$YAIMD missing: build first"
R=${README:-$TOP/README.md}
blocks() { python3 "$TOP/regress/tools/readme_blocks.py" "$R" "$1"; }

log "every make target the README names exists"
targets=$(blocks make)
[ -n "$targets" ] || fail "no make target found in the README"
for t in $targets; do
	make -C "$TOP" -n "$t" >"$T/make-$t.out" 2>&1 ||
	    { tail -n 3 "$T/make-$t.out"; fail "README names 'make $t', which does not work"; }
done
echo "$targets" | grep -qx demo && echo "$targets" | grep -qx check ||
    fail "the README no longer names make demo and make check"

log "the commands of the code blocks parse, and exist here"
blocks cmd >"$T/cmds"
bash -n "$T/cmds" || fail "the README's commands do not parse"
while read -r first _; do
	case $first in
	systemctl)	command -v systemctl >/dev/null ||
			    log "  (no systemctl here: not checked)" ;;
	*)		command -v "$first" >/dev/null ||
			    fail "the README runs $first, which is not installed" ;;
	esac
done <"$T/cmds"
head -n 1 "$T/cmds" | grep -qx 'apt-get install -y make git' ||
    fail "the README's first command is not: apt-get install -y make git"
if apt-cache show make >/dev/null 2>&1; then
	grep '^apt-get ' "$T/cmds" | sed 's/#.*//' | while read -r line; do
		# shellcheck disable=SC2086
		eval "set -- ${line#apt-get }"
		apt-get -s "$@" >"$T/apt.out" 2>&1 ||
		    { cat "$T/apt.out"; fail "apt-get -s $*"; }
	done || exit 1
else
	log "  (no apt lists here: apt-get lines not simulated)"
fi

log "the yaml example passes yaimd -n and means what yaim.yml means"
blocks yaml >"$T/readme.yml"
[ -s "$T/readme.yml" ] || fail "no yaml block in the README"
ns=$(netns_add rdm)
iface=$(awk '$1 == "interface:" { print $2 }' "$T/readme.yml")
ip -n "$ns" link add "$iface" type veth peer name rdmpeer || fail "veth $iface"
ip netns exec "$ns" "$YAIMD" -nv -f "$T/readme.yml" >"$T/readme.out" 2>&1 ||
    { cat "$T/readme.out"; fail "yaimd -n rejects the README's example"; }
ip netns exec "$ns" "$YAIMD" -nv -f "$TOP/yaim.yml" >"$T/yaim.out" 2>&1 ||
    { cat "$T/yaim.out"; fail "yaimd -n rejects yaim.yml"; }
diff -u "$T/yaim.out" "$T/readme.out" ||
    fail "the README's example and yaim.yml differ (- yaim.yml, + README)"

log "the etcdctl lines: the example's prefix, and they work"
prefix=$(awk '$1 == "#" && $2 == "prefix:" { print $3 }' "$T/readme.out")
[ -n "$prefix" ] || fail "no prefix in yaimd -nv's output"
grep '^etcdctl ' "$T/cmds" >"$T/etcdctl"
[ -s "$T/etcdctl" ] || fail "no etcdctl line in the README"
while read -r _ _ a b _; do
	key=$a; [ "$a" = --prefix ] && key=$b
	case $key in
	"$prefix"*) ;;
	*) fail "etcdctl key $key is not under the example's prefix $prefix" ;;
	esac
done <"$T/etcdctl"
start_etcd rdm
# what a running cluster has: a held IP, and a refusal
etcdctl_ put "${prefix}ips/10.0.0.8" '' >/dev/null
etcdctl_ put "${prefix}ips/10.0.0.8/marked" node1 >/dev/null
etcdctl_ put "${prefix}ips/10.0.0.7/marked" node2 >/dev/null
etcdctl_ put "${prefix}refused/node3/10.0.0.8" '' >/dev/null
n=0
while read -r line; do
	n=$((n + 1))
	ETCDCTL_API=3 ETCDCTL_ENDPOINTS=$ETCD_ENDPOINT \
	    bash -o pipefail -c "$line" >"$T/etcdctl.$n" 2>&1 ||
	    { cat "$T/etcdctl.$n"; fail "README line failed: $line"; }
done <"$T/etcdctl"
[ "$(etcdctl_ get --print-value-only --prefix "${prefix}ips/10.0.0.7" | wc -c)" -eq 0 ] ||
    fail "10.0.0.7 or its mark is still there after the README's del lines"
cat "$T"/etcdctl.* >"$T/etcdctl.all"
grep -q "${prefix}ips/10.0.0.8/marked[[:space:]]node1" "$T/etcdctl.all" ||
    { cat "$T/etcdctl.all"; fail "the holder listing does not show 10.0.0.8 node1"; }
grep -q "${prefix}refused/node3/10.0.0.8" "$T/etcdctl.all" ||
    { cat "$T/etcdctl.all"; fail "the refusal listing does not show node3"; }

log "yaimd -V and -h, as the README and yaimd.8 say"
"$YAIMD" -V >"$T/V" || fail "yaimd -V exited $?"
"$YAIMD" --version | cmp -s - "$T/V" || fail "--version differs from -V"
head -n 1 "$T/V" | grep -Eq '^yaimd [0-9]+\.[0-9]+' || fail "yaimd -V: $(head -n 1 "$T/V")"
for lib in libevent libcurl libyaml cJSON libmnl libcap-ng libpq; do
	grep -Eq "^$lib [0-9]" "$T/V" || { cat "$T/V"; fail "yaimd -V names no $lib version"; }
done
"$YAIMD" -h >"$T/h" || fail "yaimd -h exited $?"
"$YAIMD" --help | cmp -s - "$T/h" || fail "--help differs from -h"
head -n 1 "$T/h" | grep -qx 'usage: yaimd \[-dhnVv\] \[-f file | --config file\]' ||
    fail "yaimd -h: $(head -n 1 "$T/h")"
for o in d f h n V v; do
	grep -q "^\.It Fl $o" "$TOP/yaimd.8" || fail "yaimd.8 does not document -$o"
	grep -q "^  -$o" "$T/h" || fail "yaimd -h does not list -$o"
done
log "the README agrees with the tools"
