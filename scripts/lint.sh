#!/usr/bin/env bash
# Runs Debian's shellcheck over every shell script under scripts/: *.sh files and files whose
# first line names sh or bash. Exit 0 when clean, 1 with shellcheck's findings on stderr, 2 when
# the linter cannot be installed. usage: scripts/lint.sh [extra shellcheck options...]
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
need_cmd shellcheck shellcheck
cd "$KNC_ROOT" || die "cannot cd to $KNC_ROOT"
files=()
while IFS= read -r -d '' f; do
  if [[ "$f" == *.sh ]] || head -n 1 "$f" | grep -qE '^#!.*[/ ](ba)?sh( |$)'; then files+=("$f"); fi
done < <(find scripts -type f -print0 | sort -z)
((${#files[@]})) || die "no shell scripts found under scripts/"
# -x: follow `source`d files (scripts/.shellcheckrc resolves them from each script's folder)
if ! out="$(shellcheck -x "$@" "${files[@]}" 2>&1)"; then
  printf '%s\n' "$out" >&2
  n="$(grep -cE '^In .* line [0-9]+:' <<<"$out" || true)"
  die "shellcheck: $n finding(s) in scripts/ (above)" 1
fi
log "shellcheck: ${#files[@]} scripts clean"
