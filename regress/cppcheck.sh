#!/usr/bin/env bash
# cppcheck over the daemon's sources: any finding fails.
cd "$(dirname "$0")/.." || exit 2
command -v cppcheck >/dev/null || { echo "SKIP: cppcheck missing"; exit 77; }
queue=$(echo '#include <sys/queue.h>' | cpp -H -o /dev/null 2>&1 |
    awk '/queue.h$/ { print $2; exit }')
out=$(cppcheck --quiet --enable=warning,portability --std=c11 \
    -D_GNU_SOURCE -Icommon -I. ${queue:+--include="$queue"} \
    --suppress=missingIncludeSystem --inline-suppr --error-exitcode=1 \
    common parent checker dcs netif yaimd 2>&1)
rc=$?
[ -z "$out" ] || echo "$out"
[ $rc -eq 0 ] && [ -z "$out" ]
