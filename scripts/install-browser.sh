#!/usr/bin/env bash
# Installs Debian's Chromium, and fonts for Chinese text and emoji, for the end-to-end page test.
# The browser test skips with a reason where Chromium cannot be installed; nothing else depends on it.
# Without the fonts the test still passes, but its screenshot shows boxes instead of characters.
set -u
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
if command -v fc-list >/dev/null 2>&1; then
  fc-list :lang=zh | grep -q . || need+=(fonts-noto-cjk)
  fc-list | grep -qi "color emoji" || need+=(fonts-noto-color-emoji)
else
  need+=(fonts-noto-cjk fonts-noto-color-emoji)
fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: not root or no apt-get; cannot install ${need[*]} (the browser test skips without chromium)" >&2
  exit 0
fi
(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null) \
  || echo "install-browser: could not install ${need[*]}; the browser test skips without chromium" >&2
exit 0
