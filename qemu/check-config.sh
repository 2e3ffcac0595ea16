#!/bin/sh
# Check that every setting of a config fragment survived into a .config.
#
#   qemu/check-config.sh FRAGMENT DOTCONFIG SRCDIR
#
# Kconfig drops a requested option without a word when one of its
# dependencies is off; this turns that into a loud failure.  The only
# exception is CONFIG_AFORK, which the patch series adds: it may be missing
# as long as the source tree has no such Kconfig symbol (pristine tree).
set -eu

frag=$1
dotconfig=$2
src=$3

bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		sym=${line%%=*}
		grep -qxF "$line" "$dotconfig" && continue
		if [ "$sym" = CONFIG_AFORK ] &&
		   ! grep -rqsx 'config AFORK' --include='Kconfig*' "$src/init" "$src/kernel" "$src/arch/x86"; then
			echo "check-config: note: $sym not in this tree (series not applied?)" >&2
			continue
		fi
		got=$(grep -E "^(# )?$sym[= ]" "$dotconfig" || echo "(absent)")
		echo "check-config: wanted '$line', got '$got'" >&2
		bad=1
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		if grep -q "^$sym=" "$dotconfig"; then
			echo "check-config: wanted '$line', got '$(grep "^$sym=" "$dotconfig")'" >&2
			bad=1
		fi
		;;
	esac
done <"$frag"

if [ "$bad" -ne 0 ]; then
	echo "check-config: $dotconfig does not honour $frag (a dependency is missing?)" >&2
	exit 1
fi
