#!/usr/bin/env bash
# e2e: bench/measure_vllm.py against a fake vLLM server (Python standard library) with
# deterministic timing: first token after 0.002 s + 0.00001 s x prompt tokens, then one
# token every 0.003 s.  Checks the Splitwise CSV (header, rows, prompt_time ~ 2 + 0.01 x N
# ms, token_time ~ 3 ms) and the failures: closed port and HTTP 500 -> exit 1 with no CSV,
# short stream -> exit 1, bad arguments -> exit 2.
#   bash tests/e2e/measure_vllm.sh [FLEETSIM]   (FLEETSIM is optional: when given and
#   executable, the CSV is also fed to `fleetsim calibrate` to check it parses)
# Exit 77 (ctest: skipped) without python3.
set -u
PY=$(command -v python3) || { echo "SKIP: python3 not found"; exit 77; }
FLEETSIM=${1:-}
SRC=${FS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
MEASURE="$SRC/bench/measure_vllm.py"
T=$(mktemp -d)
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }
ok() { echo "ok   $*"; }

cat > "$T/fake_vllm.py" <<'EOF'
# Fake vLLM /v1/completions with SSE streaming (HTTP/1.1 chunked, like uvicorn).
# Magic prompt sizes: 999 -> HTTP 500; 998 -> the stream stops after 3 tokens.
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def send_json(self, code, obj):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b)
    def chunk(self, obj):
        d = b"data: " + (obj if isinstance(obj, bytes) else json.dumps(obj).encode()) + b"\n\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(d), d))
        self.wfile.flush()
    def do_POST(self):
        if self.path != "/v1/completions":
            return self.send_json(404, {"error": {"message": "no route " + self.path}})
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt, n = req.get("prompt"), req.get("max_tokens")
        if (req.get("model") != "fake-model" or not req.get("stream") or req.get("ignore_eos") is not True
                or req.get("min_tokens") != n or req.get("temperature") != 0
                or not isinstance(prompt, list) or not all(isinstance(t, int) for t in prompt)):
            return self.send_json(400, {"error": {"message": "bad request " + json.dumps(req)[:200]}})
        if len(prompt) == 999:
            return self.send_json(500, {"error": {"message": "magic prompt size 999"}})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        sent = n if len(prompt) != 998 else 3
        time.sleep(0.002 + 0.00001 * len(prompt))
        for i in range(sent):
            if i:
                time.sleep(0.003)
            self.chunk({"id": "cmpl-1", "object": "text_completion", "model": "fake-model",
                        "choices": [{"index": 0, "text": " t%d" % i, "logprobs": None,
                                     "finish_reason": "length" if i == n - 1 else None}]})
        if (req.get("stream_options") or {}).get("include_usage"):
            self.chunk({"id": "cmpl-1", "object": "text_completion", "model": "fake-model", "choices": [],
                        "usage": {"prompt_tokens": len(prompt), "completion_tokens": sent,
                                  "total_tokens": len(prompt) + sent}})
        self.chunk(b"[DONE]")
        self.wfile.write(b"0\r\n\r\n")

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os; os.replace(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
EOF

"$PY" "$T/fake_vllm.py" "$T/port" 2> "$T/server.err" &
SPID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
[ -s "$T/port" ] || { echo "FAIL: fake server did not start: $(cat "$T/server.err")"; exit 1; }
URL="http://127.0.0.1:$(cat "$T/port")"
COMMON=(--model fake-model --csv-model llama-3.1-8b --hardware fakegpu --tp 2 --output-tokens 8
	--timeout 20)

echo "== measure against the fake server"
"$PY" "$MEASURE" --url "$URL" "${COMMON[@]}" --prompt-sizes 100,400 --batch-sizes 1,4 \
	--repeats 2 --warmup 1 --out "$T/m.csv" 2> "$T/m.err"
rc=$?
if [ "$rc" != 0 ]; then
	bad "measure: exit $rc: $(cat "$T/m.err")"
else
	ok "measure: exit 0"
	cat "$T/m.csv"
	hdr=$(head -n 1 "$T/m.csv")
	if [ "$hdr" = "model,hardware,prompt_size,batch_size,token_size,prompt_time,token_time,tensor_parallel" ]; then
		ok "header"
	else
		bad "header: $hdr"
	fi
	[ -e "$T/m.csv.tmp" ] && bad "m.csv.tmp left behind"
	# prompt_time >= 2 + 0.01 N ms and token_time >= 2.5 ms (the fake server sleeps that
	# long: no measurement can be shorter); the upper bounds (+1 s, 250 ms) only catch
	# nonsense, since a loaded CI machine can stretch any sleep.  2 rows per (prompt,
	# batch) configuration, 8 in all, each with the fixed columns.
	if awk -F, 'NR == 1 { next }
		{ rows++; cfg[$3 "/" $4]++
		  if ($1 != "llama-3.1-8b" || $2 != "fakegpu" || $5 != 8 || $8 != 2 || NF != 8) {
			print "bad fixed columns: " $0; bad = 1 }
		  e = 2 + 0.01 * $3
		  if (!($6 >= e && $6 < e + 1000)) {
			printf "prompt_time %s for prompt %s batch %s: want [%g, %g) ms\n", $6, $3, $4, e, e + 1000; bad = 1 }
		  if (!($7 >= 2.5 && $7 <= 250)) {
			printf "token_time %s for prompt %s batch %s: want [2.5, 250] ms\n", $7, $3, $4; bad = 1 } }
		END { if (rows != 8) { print "rows: " rows ", want 8"; bad = 1 }
		      n = 0; for (k in cfg) { n++; if (cfg[k] != 2) { print "config " k ": " cfg[k] " rows"; bad = 1 } }
		      if (n != 4) { print "configurations: " n ", want 4"; bad = 1 }
		      exit bad }' "$T/m.csv"; then
		ok "8 rows, prompt_time ~ 2 + 0.01 N ms, token_time ~ 3 ms"
	else
		bad "CSV contents"
	fi
	if [ -n "$FLEETSIM" ] && [ -x "$FLEETSIM" ]; then
		# Only the parse is checked: fake timings need not fit (or even pass the roofline).
		"$FLEETSIM" calibrate "$T/m.csv" --gpu h100 --model llama-3.1-8b --hardware fakegpu \
			--holdout-every 0 > "$T/cal.out" 2> "$T/cal.err"
		if grep -v "warning:" "$T/cal.err" | grep -qE "m\.csv:[0-9]+:|missing column|no rows for"; then
			bad "fleetsim calibrate does not read the CSV: $(cat "$T/cal.err")"
		else
			ok "fleetsim calibrate reads the CSV"
		fi
	fi
fi

# expect NAME STATUS STDERR-SUBSTRING OUT [args...]: exit status, message, and no CSV.
expect() {
	local name=$1 want=$2 msg=$3 out=$4
	shift 4
	"$PY" "$MEASURE" "$@" --out "$out" > /dev/null 2> "$T/err"
	local rc=$?
	if [ "$rc" != "$want" ] || ! grep -qF -- "$msg" "$T/err"; then
		bad "$name: exit $rc (want $want), stderr: $(cat "$T/err") (want: $msg)"
	elif [ -e "$out" ] || [ -e "$out.tmp" ]; then
		bad "$name: exit $rc but $out or $out.tmp exists"
	else
		ok "$name: exit $rc, $(grep -F -- "$msg" "$T/err" | head -n 1)"
	fi
}
echo "== errors"
CLOSED=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect closed-port 1 "cannot connect to 127.0.0.1:$CLOSED" "$T/c.csv" --url "http://127.0.0.1:$CLOSED" \
	"${COMMON[@]}" --prompt-sizes 100 --batch-sizes 1 --repeats 1
expect http-500 1 "prompt_size=999 batch_size=2 repeat=1: request 1/2: HTTP 500" "$T/e.csv" \
	--url "$URL" "${COMMON[@]}" --prompt-sizes 100,999 --batch-sizes 2 --repeats 1
expect short-stream 1 "prompt_size=998 batch_size=1 repeat=1: request 1/1: got 3 tokens, asked for 8" \
	"$T/s.csv" --url "$URL" "${COMMON[@]}" --prompt-sizes 998 --batch-sizes 1 --repeats 1 --warmup 0
expect wrong-model 1 "HTTP 400" "$T/w.csv" --url "$URL" --model other --hardware fakegpu \
	--output-tokens 8 --prompt-sizes 100 --batch-sizes 1 --repeats 1 --warmup 0
expect batch-zero 2 "--batch-sizes: 0 is below the minimum 1" "$T/b.csv" --url "$URL" "${COMMON[@]}" --batch-sizes 0
expect prompt-word 2 "--prompt-sizes: 'x' is not an integer" "$T/p.csv" --url "$URL" "${COMMON[@]}" --prompt-sizes 1,x
expect one-token 2 "--output-tokens 1: need at least 2" "$T/o.csv" --url "$URL" "${COMMON[@]}" --output-tokens 1
expect comma-hw 2 "--hardware 'a,b'" "$T/h.csv" --url "$URL" --model fake-model --hardware a,b
expect bad-url 2 "--url 'ftp://x'" "$T/u.csv" --url ftp://x "${COMMON[@]}"
expect no-dir 2 "does not exist" "$T/nodir/x.csv" --url "$URL" "${COMMON[@]}"
expect no-model 2 "--model" "$T/n.csv" --url "$URL" --hardware fakegpu

if "$PY" "$MEASURE" --help | grep -q -- "--no-enable-prefix-caching" &&
   "$PY" "$MEASURE" --help | grep -q "fleetsim calibrate"; then
	ok "--help mentions prefix caching and fleetsim calibrate"
else
	bad "--help lacks the prefix-caching or calibrate advice"
fi

[ "$fail" = 0 ] && echo "PASS" || echo "FAILED"
exit "$fail"
