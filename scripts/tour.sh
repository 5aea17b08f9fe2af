#!/usr/bin/env bash
# A short tour of tagtrail on this machine (what `make run` shows until the server exists).
# Usage: scripts/tour.sh PATH/TO/tagtrail
set -uo pipefail
tagtrail=${1:-tagtrail}
python=$(dirname "$tagtrail")/python
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

# Each command is printed quoted as a shell would need it (`--campaign 'Onboarding Series'`), so
# it can be copied and run as shown.
shown() { "$python" -c 'import shlex, sys; print(shlex.join(sys.argv[1:]))' "$@"; }
step() { printf '\n\033[1m$ tagtrail %s\033[0m\n' "$(shown "$@")"; "$tagtrail" "$@"; }

step build --url https://example.com/pricing --preset intercom --campaign "Onboarding Series"
step build --url example.com/x --source Intercom.com --medium in-app --campaign "Onboarding Series"
step lint 'https://Example.com/p?utm_source=Intercom.com&utm_medium=in-app&gclid=x'
step channel --source google --medium email
step channel --url https://shop.example/ --referrer https://m.facebook.com/

cat > "$work/sheet.csv" <<'CSV'
url,source,medium,campaign,content
https://example.com/a,intercom,email,Welcome,Hero Button
example.com/b,instasent,sms,Promo,
https://example.com/c,Facebook.com,social,Launch,
CSV
step build --csv "$work/sheet.csv" --out "$work/tracked.csv"

# A local site whose /docs answers 301 → /docs/ (keeping the query): the checker follows it.
mkdir -p "$work/site/docs"
port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$python" -m http.server "$port" --bind 127.0.0.1 --directory "$work/site" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do "$python" -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.1)" 2>/dev/null && break; sleep 0.1; done
step check "http://127.0.0.1:$port/docs?utm_source=intercom&utm_medium=email&utm_campaign=welcome"
printf '\nMore: tagtrail --help, docs/cli.md\n'
