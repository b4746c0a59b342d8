#!/usr/bin/env bash
# Applies the ministry's address change files to the official index, or loads a new full file,
# then switches the running service to the new index by a rolling restart (a chain reload).
#
#   bash scripts/update-data.sh FILE...            daily (YYYYMMDD_dailyjusukrdata.zip) or monthly change files
#   bash scripts/update-data.sh --data PATH        a new full file (the zip, or the folder it unzips to)
#
#   --index DIR     the index to update (default: demo_site/data)
#   --touch FILE    the file uWSGI watches for a chain reload (default: run/chain-reload, as in
#                   uwsgi.ini; SEARCHADDR_CHAIN_RELOAD if the service was started with it)
#
# The new index is built beside the one in use. If the build fails, nothing changes: the service
# keeps serving the previous index, this prints why and exits 1, and no reload is asked for.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

usage() {
  sed -n '5,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

index="$repo/demo_site/data"
touch_file="${SEARCHADDR_CHAIN_RELOAD:-$repo/run/chain-reload}"
data=""
changes=()
while (( $# )); do
  case "$1" in
    --index) (( $# >= 2 )) || usage; index="$2"; shift 2 ;;
    --touch) (( $# >= 2 )) || usage; touch_file="$2"; shift 2 ;;
    --data) (( $# >= 2 )) || usage; data="$2"; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "update-data: unknown option $1" >&2; usage ;;
    *) changes+=("$1"); shift ;;
  esac
done
if [[ -n $data && ${#changes[@]} -gt 0 ]] || [[ -z $data && ${#changes[@]} -eq 0 ]]; then
  echo "update-data: give change files, or --data PATH, not both" >&2
  usage
fi

builder=(python3 "$repo/demo_site/build_index.py" --out "$index")
if [[ -n $data ]]; then
  builder+=(--data "$data")
else
  builder+=(--changes "${changes[@]}")
fi

mkdir -p "$index"
# One update at a time: a second one (cron and a person) waits for the first instead of racing it.
exec 9<"$index"
flock 9
if ! "${builder[@]}"; then
  echo "update-data: failed; the service keeps serving the previous index in $index (no reload)" >&2
  exit 1
fi

about="$(python3 -c 'import json, sys
print("{source}, base date {base_date}, {addresses:,} addresses".format(**json.load(open(sys.argv[1]))))' \
  "$index/about.json" 2>/dev/null || echo "what it holds is unknown")"
mkdir -p "$(dirname "$touch_file")"
# uWSGI compares whole seconds: a touch within the second of the last one would go unnoticed.
if [[ -e $touch_file ]] && (( $(stat -c %Y "$touch_file") >= $(date +%s) )); then
  sleep 1
fi
touch "$touch_file"
echo "update-data: built $index ($about); touched $touch_file: the service's workers switch" \
     "to it one at a time, each once its successor has started"
