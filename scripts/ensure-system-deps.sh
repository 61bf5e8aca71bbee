#!/usr/bin/env bash
# Installs the system packages a fresh Debian machine lacks: Java 17 for DynamoDB Local,
# ffmpeg/ffprobe for media, and GStreamer as a second real RTP peer in tests. Does nothing when
# they are present. Needs root (or sudo) to install.
set -euo pipefail

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || { [[ " ${missing[*]} " == *" ffmpeg "* ]] || missing+=(ffmpeg); }
command -v gst-launch-1.0 >/dev/null 2>&1 || missing+=(gstreamer1.0-tools)
# opusenc (base), vp8enc/rtp payloaders (good), openh264enc (bad)
for plugin in opusenc:gstreamer1.0-plugins-base vp8enc:gstreamer1.0-plugins-good openh264enc:gstreamer1.0-plugins-bad; do
  if ! gst-inspect-1.0 "${plugin%%:*}" >/dev/null 2>&1; then missing+=("${plugin#*:}"); fi
done

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
