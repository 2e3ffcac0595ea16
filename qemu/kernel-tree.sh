#!/bin/sh
# Prepare the patched kernel source tree.
#
#   qemu/kernel-tree.sh TARBALL SRCDIR PATCHDIR
#
# 1. If SRCDIR is not a git repository with a `base` tag, extract TARBALL
#    (Debian's linux-source-7.3, qemu/fetch-source.sh) into it and commit the pristine tree as
#    `base`.
# 2. Apply PATCHDIR/0*.patch (the 0000 cover letter excluded) with `git am`,
#    but only when the series differs from the one applied last time: a hash
#    of the patch files is kept in SRCDIR/.git/afork-series.
#
# The kernel is built out of tree (O=build/kbuild), so the source tree holds
# no build output and can be reset to `base` freely.  When the series is
# re-applied, every file whose content comes out identical to before gets
# its old modification time back, so kbuild recompiles only what really
# changed and not everything any patch touches.
set -eu

tarball=$1
src=$2
patchdir=$3

# Two makes must not extract or patch at the same time, nor patch under a
# running kernel build (qemu/kernel.sh takes the same lock).
mkdir -p "$(dirname "$src")"
if [ -z "${AFORK_TREE_LOCKED:-}" ]; then
	if ! flock -n "$src.lock" true; then
		echo "==> waiting for another kernel build/patch step in this tree to finish"
	fi
	AFORK_TREE_LOCKED=1 exec flock "$src.lock" "$0" "$@"
fi

# Commits in the build tree need an identity; set it per command so that
# no global git configuration is needed or changed.  No automatic gc: git
# would run it in the background after a commit, and that process would
# inherit the tree lock's descriptor and hold the lock until it finished.
git_() {
	git -C "$src" -c user.name="afork build" -c user.email="build@afork.invalid" \
		-c advice.detachedHead=false -c gc.auto=0 -c maintenance.auto=false "$@"
}

# --- 1. pristine tree -------------------------------------------------------
# A tree made from another tarball (an older base) is made anew, and the
# builds of it are dropped with it: the new sources keep the tarball's
# times, older than those builds' objects, so kbuild would mix the two.
baseid="$(basename "$tarball") $(cat "$tarball.version" 2>/dev/null)"
if [ -d "$src/.git" ] && [ "$(cat "$src/.git/afork-base" 2>/dev/null)" != "$baseid" ]; then
	echo "==> ${src#"$PWD"/} is not from $baseid: extracting it anew"
	rm -rf "$src" "$(dirname "$src")"/kbuild "$(dirname "$src")"/kbuild-*
fi
if ! git_ rev-parse -q --verify refs/tags/base >/dev/null 2>&1; then
	[ -r "$tarball" ] || {
		echo "kernel-tree: $tarball missing (make -C qemu source)" >&2
		exit 1
	}
	echo "==> extracting $(basename "$tarball") into ${src#"$PWD"/} (about 1 min)"
	start=$(date +%s)
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xJf "$tarball" -C "$src.tmp" --strip-components=1
	mv "$src.tmp" "$src"
	echo "==> committing the pristine tree as tag 'base'"
	git_ init -q
	# -f: the tarball may ship files that a .gitignore matches; they are part
	# of the pristine source and must be tracked, or a reset would lose them.
	git_ add -f -A .
	git_ commit -q -m "linux-source-7.3 $(cat "$tarball.version" 2>/dev/null || echo '(unknown version)')"
	git_ tag base
	echo "$baseid" >"$src/.git/afork-base"
	echo "==> pristine tree ready ($(($(date +%s) - start)) s)"
fi

# --- 2. the series ----------------------------------------------------------
# The 0000 file is the cover letter; everything else numbered is a patch.
patches=
if [ -d "$patchdir" ]; then
	for p in "$patchdir"/0*.patch; do
		[ -e "$p" ] || continue
		case $(basename "$p") in 0000-*) continue ;; esac
		patches="$patches $p"
	done
fi

# A second stamp changes only when the series changes a Kconfig file: the
# kernel configuration (40 s to regenerate) depends on that one, not on the
# series stamp.
kstamp=$src/.git/afork-kconfig
update_kconfig_stamp() {
	kc=$(git_ diff base HEAD -- '*Kconfig*' | sha256sum | cut -d' ' -f1)
	[ "$(cat "$kstamp" 2>/dev/null)" = "$kc" ] || echo "$kc" >"$kstamp"
}

# The hash covers names and contents, so renaming or reordering counts too.
series=$( { for p in $patches; do basename "$p"; cat "$p"; done; } | sha256sum | cut -d' ' -f1)
stamp=$src/.git/afork-series
if [ "$(cat "$stamp" 2>/dev/null)" = "$series" ]; then
	# Same series: nothing to do unless someone edited the generated tree.
	if [ -z "$(git_ status --porcelain --untracked-files=no)" ]; then
		[ -e "$kstamp" ] || update_kconfig_stamp
		exit 0
	fi
	echo "==> ${src#"$PWD"/} has local changes: resetting it (edit kernel-patch/ instead)"
fi

# Keep a copy of every file the old series touched, with its timestamp.
keep=$src/.git/afork-keep
rm -rf "$keep"
mkdir -p "$keep"
git_ diff --name-only base HEAD 2>/dev/null | while IFS= read -r f; do
	[ -f "$src/$f" ] || continue
	mkdir -p "$keep/$(dirname "$f")"
	cp -p "$src/$f" "$keep/$f"
done

rm -f "$stamp"
git_ am --abort >/dev/null 2>&1 || true
git_ reset -q --hard base
# Remove untracked files (e.g. new files of the old series) but leave ignored
# ones alone; with the out-of-tree build there should be none anyway.
git_ clean -q -fd

n=0
for p in $patches; do n=$((n + 1)); done
if [ "$n" -gt 0 ]; then
	echo "==> applying $n patch(es) from ${patchdir#"$PWD"/}"
	for p in $patches; do
		if ! git_ am -q --3way "$p" >/dev/null 2>"$src/.git/afork-am.err"; then
			echo "kernel-tree: 'git am' failed on $(basename "$p"):" >&2
			sed 's/^/    /' "$src/.git/afork-am.err" >&2
			git_ am --abort >/dev/null 2>&1 || true
			git_ reset -q --hard base
			exit 1
		fi
		echo "    $(git_ log -1 --format=%s)"
	done
else
	echo "==> no patches in ${patchdir#"$PWD"/}: using the pristine tree"
fi

# Give unchanged files their old timestamps back (see the header).
git_ diff --name-only base HEAD | while IFS= read -r f; do
	if [ -f "$keep/$f" ] && cmp -s "$keep/$f" "$src/$f"; then
		touch -r "$keep/$f" "$src/$f"
	fi
done
rm -rf "$keep"

echo "$series" >"$stamp"
update_kconfig_stamp
