#!/bin/sh
# kselftest-style TAP: two passes and a skip.
echo "TAP version 13"
echo "1..3"
echo "ok 1 global.boots"
echo "ok 2 global.has_proc # SKIP $( [ -r /proc/self/stat ] && echo 'proc is there, skipping anyway' )"
echo "ok 3 global.runs_from_payload"
exit 0
