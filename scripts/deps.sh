#!/usr/bin/env bash
# Install the Debian (bookworm) packages spinner_rollback builds and tests with
# (Go comes with the machine: /usr/local/go; Debian's golang-go is the fallback).
# Uses sudo when not run as root. Safe to run again.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git python3 python3-venv python3-pip
  libboost1.81-dev libboost-json1.81-dev libboost-container1.81-dev
  libsqlite3-dev sqlite3 libmsgsl-dev catch2 libsodium-dev libzstd-dev
  libpq-dev libssl-dev postgresql postgresql-client
  libbenchmark-dev doxygen
  busybox-static openssl curl
  abigail-tools clang-14 libclang-rt-14-dev
)
# Docker as machine-notes.md installs it (with its recommended packages).
with_recommends=(docker.io)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
missing_rec=()
for p in "${with_recommends[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing_rec+=("$p")
done
if [ ${#missing[@]} -gt 0 ] || [ ${#missing_rec[@]} -gt 0 ]; then
  echo "installing: ${missing[*]} ${missing_rec[*]}"
  $SUDO apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ${#missing_rec[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing_rec[@]}"
fi
if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends golang-go
fi
