#!/usr/bin/env bash
# Writes docs/tcp-close.md from docs/tcp-close.in.md, and docs/tcp-close.zh.md (in Chinese)
# from docs/tcp-close.zh.in.md: every `<!-- ladder NAME -->` line becomes the text ladder
# that synack prints for tests/fixtures/NAME.pcap (or NAME.pcapng); in the Chinese page
# each ladder, printed with --lang zh, follows a comment naming the exact command. Also writes the
# README's picture, docs/four-way.svg. With --check, compares instead of writing (exit 1 on
# drift). SYNACK names the binary to use (default: build one).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z ${SYNACK:-} ]]; then
  cargo build --quiet
  SYNACK=target/debug/synack
fi
# `<!-- ladder NAME -->` (or `<!-- ladder NAME ID -->`: only connection #ID) becomes the text
# ladder of tests/fixtures/NAME.pcap; `<!-- fact ... -->` after a number says which capture
# (or rule) it comes from: tests/docs.rs checks it there, and it is left out of the page.
# render IN LANG: the page of IN, its ladders in LANG (en or zh).
render() {
  local in=$1 lang=$2
  while IFS= read -r line; do
    if [[ $line =~ ^\<!--\ ladder\ ([a-z0-9-]+)(\ ([0-9]+))?\ --\>$ ]]; then
      only=()
      [[ -n ${BASH_REMATCH[3]} ]] && only=(--connection "${BASH_REMATCH[3]}")
      capture="tests/fixtures/${BASH_REMATCH[1]}.pcap"
      [[ -f $capture ]] || capture="${capture}ng"   # a recording with socket calls is pcapng
      args=(trace --read "$capture" --format text --diagram "${only[@]}" --lang "$lang")
      # The Chinese page names the command of each ladder (tests/docs.rs runs it).
      [[ $lang == en ]] || echo "<!-- synack ${args[*]} -->"
      echo '```text'
      "$SYNACK" "${args[@]}" | sed -e '${/^$/d;}'
      echo '```'
    else
      printf '%s\n' "$line" | sed -e 's/<!-- fact [^>]*-->//g'
    fi
  done <"$in"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
render docs/tcp-close.in.md en >"$tmp/tcp-close.md"
render docs/tcp-close.zh.in.md zh >"$tmp/tcp-close.zh.md"
"$SYNACK" trace --read tests/fixtures/slow-close.pcap --format svg >"$tmp/four-way.svg"
if [[ ${1:-} == --check ]]; then
  status=0
  for f in tcp-close.md tcp-close.zh.md four-way.svg; do
    if ! diff -u "docs/$f" "$tmp/$f"; then
      echo "docs/$f is out of date: run docs/generate.sh" >&2
      status=1
    fi
  done
  exit $status
fi
cp "$tmp/tcp-close.md" "$tmp/tcp-close.zh.md" "$tmp/four-way.svg" docs/
echo "wrote docs/tcp-close.md, docs/tcp-close.zh.md and docs/four-way.svg"
