#!/usr/bin/env bash
# Makes real rsyslog and syslog-ng available to the integration tests, without installing a
# service: the Debian packages are downloaded and unpacked under .peers/ (git-ignored), and the
# tests run the daemons in the foreground on loopback. Idempotent; says what it could not do.
set -u
cd "$(dirname "$0")/../.."
dest=.peers
fetch() { # name, a file that shows it is complete, packages...
  local name=$1 marker=$2; shift 2
  if [ -e "$dest/$name/$marker" ]; then echo "peers: $name already unpacked"; return 0; fi
  local tmp; tmp=$(mktemp -d)
  chmod 777 "$tmp" # apt's sandbox user writes there
  if ! (cd "$tmp" && apt-get download "$@" >/dev/null 2>&1); then
    apt-get update -qq >/dev/null 2>&1
    if ! (cd "$tmp" && apt-get download "$@" >/dev/null 2>&1); then
      echo "peers: could not download $* : the $name tests will be skipped"
      rm -rf "$tmp"; return 0
    fi
  fi
  mkdir -p "$dest/$name"
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$dest/$name"; done
  rm -rf "$tmp"
  echo "peers: $name unpacked in $dest/$name"
}
# rsyslog with imrelp (rsyslog-relp, librelp0) for the RELP tests and bench.
fetch rsyslog usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so rsyslog libestr0 libfastjson4 liblognorm5 rsyslog-relp librelp0
fetch syslog-ng usr/sbin/syslog-ng syslog-ng-core libivykis0 libjson-c5 libnet1 libwrap0 libpcre3
