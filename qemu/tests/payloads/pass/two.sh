#!/bin/sh
# One pass, with the argument from tests.list in its name.
echo "TAP version 13"
echo "1..1"
echo "ok 1 global.got_$1"
exit 0
