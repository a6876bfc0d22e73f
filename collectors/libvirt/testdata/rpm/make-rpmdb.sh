#!/bin/sh
# Builds the SQLite RPM databases of the RPM host fixtures with Debian's own
# rpm and rpmbuild (apt-get install rpm): small empty packages named and
# versioned like RHEL 9's qemu-kvm and libvirt-daemon, installed with
# --justdb into <fixture>/var/lib/rpm/rpmdb.sqlite, as on a RHEL 9 host.
#
#   sh collectors/libvirt/testdata/rpm/make-rpmdb.sh
#
# The databases are committed beside this script; rerun it after changing
# the versions below (and update the tests that name them).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# pkg NAME EPOCH VERSION RELEASE: build NAME-VERSION-RELEASE.noarch.rpm.
pkg() {
	mkdir -p "$work/top/SPECS"
	cat >"$work/top/SPECS/$1.spec" <<SPEC
Name: $1
Epoch: $2
Version: $3
Release: $4
Summary: hvaudit test fixture standing in for RHEL's $1
License: Apache-2.0
BuildArch: noarch
%description
An empty package: only its name and version matter to the test.
%files
SPEC
	rpmbuild --quiet --define "_topdir $work/top" --define "_source_date_epoch_from_changelog 0" \
		--define "use_source_date_epoch_as_buildtime 1" -bb "$work/top/SPECS/$1.spec" >/dev/null
}

# host DIR PACKAGES...: a host root whose RPM database holds these packages.
host() {
	dir=$here/$1
	shift
	rm -rf "$dir/var/lib/rpm"
	mkdir -p "$dir/var/lib/rpm"
	rpm --initdb --dbpath "$dir/var/lib/rpm"
	for p in "$@"; do
		rpm -i --justdb --nodeps --ignoreos --ignorearch --dbpath "$dir/var/lib/rpm" "$work/top/RPMS/noarch/$p.noarch.rpm"
	done
	# Keep the database only, as a host has it at rest.
	rm -f "$dir/var/lib/rpm/rpmdb.sqlite-shm" "$dir/var/lib/rpm/rpmdb.sqlite-wal" "$dir/var/lib/rpm/.rpm.lock"
}

export SOURCE_DATE_EPOCH=1767225600
pkg qemu-kvm 17 8.2.0 10.el9
pkg qemu-kvm 17 8.2.0 11.el9_4
pkg libvirt-daemon 0 10.0.0 6.2.el9_4
host rhel9-old qemu-kvm-8.2.0-10.el9 libvirt-daemon-10.0.0-6.2.el9_4
host rhel9-fixed qemu-kvm-8.2.0-11.el9_4 libvirt-daemon-10.0.0-6.2.el9_4
