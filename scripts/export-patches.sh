#!/usr/bin/env bash
# Regenerate kernel-patch/ from a kernel tree whose commits since tag
# 'base' are the series.  The cover letter keeps its subject and text:
# only the shortlog and diffstat below them are regenerated.
#
# The tree is the one source of the kernel code: uapi/linux/afork.h and
# selftests/afork/ are regenerated from it too, as copies of
# include/uapi/linux/afork.h and tools/testing/selftests/afork/ at HEAD
# (scripts/check-sources.sh checks that they match the series).  The
# edit -> export -> make vm-check loop is in docs/series.md.
#
#   scripts/export-patches.sh build/linux
set -euo pipefail
tree=${1:?usage: $0 KERNEL_TREE}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/kernel-patch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

git -C "$tree" -c user.name="afork developers" -c user.email=afork@example.org \
	format-patch -q --cover-letter --zero-commit \
	--subject-prefix="RFC PATCH v2" \
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

# The copies, from the committed tree (not the work tree).
git -C "$tree" show HEAD:include/uapi/linux/afork.h >"$top/uapi/linux/afork.h"
rm -rf "$top/selftests/afork"
mkdir -p "$top/selftests/afork"
git -C "$tree" archive HEAD tools/testing/selftests/afork |
	tar -x -C "$tmp" && cp -a "$tmp/tools/testing/selftests/afork/." "$top/selftests/afork/"
ls "$out"
