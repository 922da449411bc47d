#!/usr/bin/env bash
# Makes real rsyslog and syslog-ng available to the integration tests, without installing a
# service: the Debian packages are downloaded and unpacked under .peers/ (git-ignored), and the
# tests run the daemons in the foreground on loopback. Idempotent; says what it could not do.
set -u
cd "$(dirname "$0")/../.."
dest=.peers
fetch() { # name, packages...
  local name=$1; shift
  if [ -d "$dest/$name/usr/sbin" ]; then echo "peers: $name already unpacked"; return 0; fi
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
fetch rsyslog rsyslog libestr0 libfastjson4 liblognorm5
fetch syslog-ng syslog-ng-core libivykis0 libjson-c5 libnet1 libwrap0 libpcre3
