#!/usr/bin/env bash
# Regenerate kernel-patch/ from a kernel tree whose commits since tag
# 'base' are the series.  The cover letter keeps its subject and text:
# only the shortlog and diffstat below them are regenerated.
#
#   scripts/export-patches.sh build/dev/linux
set -euo pipefail
tree=${1:?usage: $0 KERNEL_TREE}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/kernel-patch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

git -C "$tree" format-patch -q --cover-letter --zero-commit \
	--no-signature -o "$tmp" base..HEAD

old=$out/0000-cover-letter.patch
new=$tmp/0000-cover-letter.patch
if [ -f "$old" ]; then
	# Subject and text of the old letter, up to its shortlog.
	awk '/^Subject: /{s=1} s && /^[^ ].* \([0-9]+\):$/{exit} s' "$old" \
		> "$tmp/blurb"
	awk -v blurb="$tmp/blurb" '
		/^Subject: / { while ((getline l < blurb) > 0) print l; skip=1; next }
		skip && /^[^ ].* \([0-9]+\):$/ { skip=0 }
		!skip' "$new" > "$tmp/letter"
	mv "$tmp/letter" "$new"
fi
rm -f "$out"/0*.patch
cp "$tmp"/0*.patch "$out"/
ls "$out"
