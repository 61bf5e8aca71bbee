#!/usr/bin/env bash
# Installs the system packages a fresh Debian machine lacks: Java 17 for DynamoDB Local and
# ffmpeg/ffprobe for media. Does nothing when they are present. Needs root (or sudo) to install.
set -euo pipefail

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || { [[ " ${missing[*]} " == *" ffmpeg "* ]] || missing+=(ffmpeg); }

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "ensure-system-deps: installing ${missing[*]}" >&2
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then as_root=(sudo); else
    echo "ensure-system-deps: need root to install ${missing[*]}; install them and re-run" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "ensure-system-deps: installed ${missing[*]}" >&2
