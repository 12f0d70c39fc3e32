#!/usr/bin/env bash
# Runs inside the bare root that check.sh set up (docs/bare-machine.md), in a fresh clone: the README's
# two commands as a new user types them, then what they promise: a host wheel of myext installs from
# dist/ alone into a fresh venv and imports, and the pex runs.
set -uo pipefail
cd "$1"

say() { echo "bare-machine: $*" >&2; }
status=0
summary=()

# Runs a command, shows its output, and records its wall time and exit status.
timed() {
  local start=$SECONDS rc=0
  say "\$ $*"
  "$@" || rc=$?
  summary+=("$(printf '%-55s %5d s  %s' "$*" $((SECONDS - start)) "$([[ $rc == 0 ]] && echo ok || echo "FAILED (exit $rc)")")")
  [[ $rc == 0 ]] || status=1
  return $rc
}

packaged=0
timed ./pants package :: && packaged=1
# `--package-only` (what .ci/run passes: the whole test suite, cold, doesn't fit CI's time here; it
# runs on the CI machine itself instead).
[[ "${2:-}" == --package-only ]] || timed ./pants test ::

install_wheel() {
  local python="$1" venv
  venv="$(mktemp -d)/venv"
  "$python" -m venv "$venv" \
    && "$venv/bin/pip" install --quiet --no-index --find-links dist myext \
    && "$venv/bin/python" -c '
import sys, myext, myext._native
assert myext.sum_as_string(40, 2) == "42", myext.sum_as_string(40, 2)
print(f"myext {myext.__version__} on {sys.version.split()[0]}: {myext._native.__file__}")'
}

if [[ $packaged == 1 ]]; then
  # Any CPython of the root: the one `python3` runs here (pyenv's) and Debian's, if they differ.
  pythons=("$(command -v python3)")
  [[ /usr/bin/python3 -ef "${pythons[0]}" ]] || pythons+=(/usr/bin/python3)
  for python in "${pythons[@]}"; do
    version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    timed install_wheel "$python" || ls dist >&2
    # The wheel pip took must be this machine's, built for this interpreter.
    ls dist/myext-*-cp${version/./}-cp${version/./}-*x86_64.whl >/dev/null || { say "no x86_64 wheel of myext for CPython $version in dist/"; status=1; }
  done
  timed python3 dist/src.python.app/app.pex BareMachine
  # Run directly, as README says: its shebang is `python3`, whichever admitted one is on PATH.
  timed ./dist/src.python.app/app.pex BareMachine
fi

say "summary (wall time of each command inside the bare root):"
for line in "${summary[@]}"; do say "  $line"; done
exit $status
