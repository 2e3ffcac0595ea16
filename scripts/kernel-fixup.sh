#!/bin/sh
# Fold the kernel tree's uncommitted edits into one commit of the series,
# then export the series (kernel-patch/, uapi/, selftests/afork/).
#
#   scripts/kernel-fixup.sh COMMIT [TREE]     COMMIT: a hash or a subject
#                                             prefix ("fork:", "selftests")
#
# A rebase re-checks-out every commit after the one it changes, which gives
# their files new timestamps and, for the syscall tables of the wiring
# commit, recompiles most of the kernel (20 minutes here instead of 20
# seconds).  So the timestamps of the files whose content the rebase does
# not change are put back afterwards.  New files must be added first with
# "git add -f" (the Debian tarball's .gitignore ignores everything).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
target=${1:?usage: kernel-fixup.sh COMMIT [TREE]}
tree=${2:-$top/build/linux}
cd "$tree"

git update-index -q --refresh
if git diff --quiet HEAD --; then
	echo "kernel-fixup: nothing to fold in $tree" >&2
	exit 1
fi
# A subject prefix names the newest commit of the series whose subject
# starts with it.
if ! commit=$(git rev-parse -q --verify "$target^{commit}" 2>/dev/null); then
	commit=$(git log --format='%H %s' base..HEAD |
		 awk -v p="$target" 'index(substr($0, 42), p) == 1 { print $1; exit }')
	[ -n "$commit" ] || { echo "kernel-fixup: no commit '$target' in base..HEAD" >&2; exit 1; }
fi

subject=$(git log -1 --format=%s "$commit")
stamps=$(mktemp)
trap 'rm -f "$stamps"' EXIT
changed=$(git diff --name-only HEAD --)
git diff --name-only base HEAD -- | while read -r f; do
	[ -e "$f" ] && printf '%s %s\n' "$(stat -c %Y "$f")" "$f"
done >"$stamps"

git commit -q -a --fixup="$commit"
GIT_SEQUENCE_EDITOR=true git rebase -q -i --autosquash base

n=0
while read -r t f; do
	case "
$changed
" in *"
$f
"*) continue ;; esac
	[ -e "$f" ] || continue
	if [ "$(stat -c %Y "$f")" != "$t" ]; then
		touch -d "@$t" "$f"
		n=$((n + 1))
	fi
done <"$stamps"
echo "==> folded into \"$subject\"; $n timestamps put back"
"$top/scripts/export-patches.sh" "$tree" >/dev/null
echo "==> series exported to kernel-patch/, uapi/, selftests/afork/"
