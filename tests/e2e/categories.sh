#!/usr/bin/env bash
# Workload categories by name (issue 19 item 3): the categories table (names and
# per-category figures), requests.category a foreign key into it, `run --json`
# "categories", and the run report's per-category table (names HTML-escaped).
set -uo pipefail
FLEETSIM=${1:?usage: categories.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 >/dev/null || exit 77
command -v sqlite3 >/dev/null || exit 77

# A trace with two categories, one of them hostile HTML.
{
	echo "arrival_s,input_tokens,output_tokens,category"
	for i in $(seq 0 199); do
		if [ $((i % 5)) = 0 ]; then c='<b>docs & "x"</b>'; else c=chat; fi
		echo "$((i / 20)).$((i % 20 * 5)),$((100 + i)),20,\"${c//\"/\"\"}\""
	done
} > "$T/t.csv"
cat > "$T/s.yaml" <<YAML
name: cats
seed: 1
workload: {trace: t.csv}
model: llama-3.1-8b
slo: {ttft_p99: 2s, tpot_p99: 100ms}
policies:
  - name: single
    pools:
      - {name: all, gpu: h100, replicas: 1, max_model_len: 4096}
YAML
"$FLEETSIM" run "$T/s.yaml" --db "$T/r.db" --requests --json > "$T/r.json" 2> "$T/err" || fail "run: $(cat "$T/err")"
python3 - "$T/r.json" <<'PY' || fail "run --json categories"
import json, sys
p = json.load(open(sys.argv[1]))["policies"][0]
c = {x["category"]: x for x in p["categories"]}
assert set(c) == {"chat", '<b>docs & "x"</b>'}, c
assert c["chat"]["requests"] == 160 and c['<b>docs & "x"</b>']["requests"] == 40, c
assert abs(c["chat"]["traffic_share"] - 0.8) < 1e-12
PY
[ "$(sqlite3 "$T/r.db" "select count(*) from categories")" = 2 ] || fail "categories rows"
[ "$(sqlite3 "$T/r.db" "select c.name || '=' || count(*) from requests r join categories c using (run_id, category) group by c.name order by c.name" | tr '\n' ' ')" = '<b>docs & "x"</b>=40 chat=160 ' ] ||
	fail "requests join categories: $(sqlite3 "$T/r.db" "select category, count(*) from requests group by 1")"
[ "$(sqlite3 "$T/r.db" "PRAGMA foreign_keys=ON; select count(*) from pragma_foreign_key_check")" = 0 ] || fail "foreign keys"
"$FLEETSIM" report --db "$T/r.db" --out "$T/rep" > /dev/null 2> "$T/err" || fail "report: $(cat "$T/err")"
grep -q "Per workload category" "$T/rep/index.html" || fail "no per-category table"
grep -q '&lt;b&gt;docs &amp; &quot;x&quot;&lt;/b&gt;' "$T/rep/index.html" || fail "category name not escaped"
grep -q '<b>docs' "$T/rep/index.html" && fail "raw category name in HTML"
echo OK
