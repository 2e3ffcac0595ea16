# SPDX-License-Identifier: MIT
# A private apt setup, sourced by qemu/fetch-source.sh and
# qemu/fetch-sysroot.sh: apt-get and apt-cache with their own sources list,
# state and cache under one folder, so that the host's apt configuration,
# package lists and dpkg database are never changed.
#
#   . qemu/private-apt.sh
#   private_apt DIR "deb [signed-by=...] URI SUITE COMPONENT" [DEBARCH]
#   aptp apt-get update; aptp apt-cache madison PKG; (cd "$apt/dl" && aptp apt-get download PKG)
#
# private_apt sets $apt (DIR, made absolute) and lays out DIR/etc,
# DIR/state, DIR/cache and DIR/dl (an empty folder for downloads); with
# DEBARCH, aptp sees that architecture only (for these commands: the
# host's dpkg is never told about it).

# private_apt DIR SOURCES_LINE [DEBARCH]
private_apt() {
	mkdir -p "$1"
	apt=$(cd "$1" && pwd)
	apt_arch=${3:-}
	mkdir -p "$apt/etc/preferences.d" "$apt/state/lists/partial" \
		"$apt/cache/archives/partial" "$apt/dl"
	rm -f "$apt/dl"/*.deb
	echo "$2" >"$apt/etc/sources.list"
}

# aptp TOOL ARG...: apt-get or apt-cache with the private setup.
aptp() {
	tool=$1
	shift
	$tool -q -o Dir::Etc::SourceList="$apt/etc/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::Etc::Preferences="$apt/etc/preferences" \
		-o Dir::Etc::PreferencesParts="$apt/etc/preferences.d" \
		-o Dir::State="$apt/state" -o Dir::State::Status=/dev/null \
		-o Dir::Cache="$apt/cache" -o APT::Get::List-Cleanup=0 \
		${apt_arch:+-o APT::Architecture="$apt_arch" -o APT::Architectures="$apt_arch"} \
		"$@"
}
