#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing sova-dc needs.
# Safe to run again: it only calls apt-get when something is missing.
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libcaf-dev            # CAF 0.17: actors, io, test framework
  libboost-dev          # Boost 1.74: Asio, Beast, uuid/sha1 (header-only)
  libmsgpack-cxx-dev    # msgpack-c for the DHT wire format
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libespeak-ng-dev espeak-ng-data           # reference TTS backend
  libpocketsphinx-dev pocketsphinx-en-us    # reference ASR backend (US English model)
  libsndfile1-dev libsamplerate0-dev        # reading audio files, converting their rate
  pocketsphinx-testdata                     # real recordings with transcripts (tests, demo)
  libedit-dev                               # the admin console: line editing, history
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
