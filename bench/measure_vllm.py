#!/usr/bin/env python3
"""measure_vllm.py - measure prefill and decode timings of a running vLLM server
(OpenAI-compatible API) and write them in the Splitwise CSV layout that
`fleetsim calibrate` reads.  Python 3.9+ standard library only.

Run `python3 bench/measure_vllm.py --help` for the method and an example.
"""
import argparse
import http.client
import json
import os
import random
import sys
import threading
import time
import urllib.parse

HEADER = "model,hardware,prompt_size,batch_size,token_size,prompt_time,token_time,tensor_parallel"
TOKEN_ID_LO, TOKEN_ID_HI = 1000, 20000  # prompt token ids; fits any vocabulary >= 20001

DESCRIPTION = """\
Drive a running vLLM OpenAI-compatible server and write the timings that
`fleetsim calibrate` fits, one CSV row per measured batch, in the Splitwise layout:

  model,hardware,prompt_size,batch_size,token_size,prompt_time,token_time,tensor_parallel

For every (prompt size P, concurrency B) of --prompt-sizes x --batch-sizes and every
repeat, B streaming requests (POST URL/v1/completions) are launched at the same
instant.  Each prompt is exactly P token ids (a pseudo-random sequence in
1000..20000, different per request and per repeat, so the prefix cache cannot
hit), and each request generates exactly --output-tokens tokens (max_tokens =
min_tokens = N, ignore_eos, temperature 0).  Times are in milliseconds:

  prompt_time  launch until the LAST request of the batch got its first token
               (the whole batch's prompt phase; at B = 1 this is the TTFT)
  token_time   mean inter-token latency while decoding: per request
               (t_last_token - t_first_token) / (tokens - 1), averaged over the B
               requests (tokens = usage.completion_tokens when the server reports
               it, else the number of streamed chunks)

Measurement advice:
  * Start the server with prefix caching OFF, e.g.
      vllm serve meta-llama/Llama-3.1-8B-Instruct --no-enable-prefix-caching \\
          --max-num-batched-tokens 16384
    otherwise repeated prompts are not prefilled again and prompt_time is too low.
    fleetsim assumes a batch's prompts are prefilled in ONE step: keep
    --max-num-batched-tokens >= the largest prompt size x batch size you measure
    that way (or treat rows exceeding it as chunked).
  * Prefill is measured cleanly at concurrency 1 (TTFT): --batch-sizes 1 with many
    --prompt-sizes.  Decode is measured at fixed concurrencies with a short prompt:
    e.g. --prompt-sizes 128 --batch-sizes 1,8,32,64.  The default grid does both;
    at B > 1 and long prompts the early requests' decode overlaps the later
    requests' prefill, which inflates token_time a little.
  * Use --csv-model with fleetsim's name of the model when the served name is a
    Hugging Face path (calibrate matches the model column against its catalog).

Example (server on this machine, H100, TP 1):

  python3 bench/measure_vllm.py --model meta-llama/Llama-3.1-8B-Instruct \\
      --csv-model llama-3.1-8b --hardware h100 --out h100.csv
  fleetsim calibrate h100.csv --gpu h100 --model llama-3.1-8b --hardware h100 \\
      --out my-h100.yaml

Exit status: 0 on success; 1 when a request fails (HTTP status != 200, connection
refused, timeout, fewer tokens than asked) -- the message names the configuration
and no CSV is written; 2 for bad arguments.
"""


class MeasureError(Exception):
    pass


def die_usage(msg):
    print(f"measure_vllm.py: error: {msg}", file=sys.stderr)
    sys.exit(2)


def int_list(name, text, minimum):
    vals = []
    for part in text.split(","):
        part = part.strip()
        try:
            v = int(part)
        except ValueError:
            die_usage(f"{name}: '{part}' is not an integer (want a comma-separated list)")
        if v < minimum:
            die_usage(f"{name}: {v} is below the minimum {minimum}")
        vals.append(v)
    if not vals:
        die_usage(f"{name}: empty list")
    return list(dict.fromkeys(vals))  # drop duplicates, keep order


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="measure_vllm.py",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--url", default="http://127.0.0.1:8000",
                   help="server base URL; requests go to URL/v1/completions (default %(default)s)")
    p.add_argument("--model", required=True, help="served model name sent in each request")
    p.add_argument("--csv-model", help="value of the CSV model column (default: --model)")
    p.add_argument("--hardware", required=True, help="value of the CSV hardware column, e.g. h100")
    p.add_argument("--tp", type=int, default=1, help="tensor_parallel column (default 1)")
    p.add_argument("--prompt-sizes", default="128,512,2048,5000",
                   help="prompt lengths in tokens (default %(default)s)")
    p.add_argument("--batch-sizes", default="1,8,32,64",
                   help="concurrencies: requests launched at once (default %(default)s)")
    p.add_argument("--output-tokens", type=int, default=128,
                   help="tokens generated per request, >= 2 (default %(default)s)")
    p.add_argument("--repeats", type=int, default=3,
                   help="measured batches (= CSV rows) per configuration (default %(default)s)")
    p.add_argument("--warmup", type=int, default=1,
                   help="discarded batches before measuring, at the smallest prompt size and "
                        "largest concurrency (default %(default)s)")
    p.add_argument("--timeout", type=float, default=600,
                   help="seconds one request may take (default %(default)s)")
    p.add_argument("--seed", type=int, default=0,
                   help="salt for the prompt token ids (default %(default)s)")
    p.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY"),
                   help="bearer token if the server was started with --api-key "
                        "(default: $OPENAI_API_KEY)")
    p.add_argument("--out", required=True, help="CSV file to write (replaced atomically)")
    a = p.parse_args(argv)

    a.prompt_sizes = int_list("--prompt-sizes", a.prompt_sizes, 1)
    a.batch_sizes = int_list("--batch-sizes", a.batch_sizes, 1)
    if a.output_tokens < 2:
        die_usage(f"--output-tokens {a.output_tokens}: need at least 2 to time decoding")
    if a.repeats < 1:
        die_usage(f"--repeats {a.repeats}: must be at least 1")
    if a.warmup < 0:
        die_usage(f"--warmup {a.warmup}: must be >= 0")
    if a.tp < 1:
        die_usage(f"--tp {a.tp}: must be at least 1")
    if not a.timeout > 0:
        die_usage(f"--timeout {a.timeout}: must be positive")
    if a.csv_model is None:
        a.csv_model = a.model
    for name, v in (("--csv-model", a.csv_model), ("--hardware", a.hardware)):
        if not v or any(c in v for c in ",\r\n\""):
            die_usage(f"{name} '{v}': must be non-empty without commas, quotes or newlines "
                      "(the CSV layout has no quoting)")

    u = urllib.parse.urlsplit(a.url)
    if u.scheme not in ("http", "https") or not u.hostname:
        die_usage(f"--url '{a.url}': want http://HOST[:PORT][/PREFIX]")
    try:
        port = u.port
    except ValueError:
        die_usage(f"--url '{a.url}': bad port")
    a.scheme, a.host = u.scheme, u.hostname
    a.port = port or (443 if u.scheme == "https" else 80)
    prefix = u.path.rstrip("/")
    if prefix.endswith("/v1"):
        prefix = prefix[:-3]
    a.path = prefix + "/v1/completions"

    out_dir = os.path.dirname(os.path.abspath(a.out))
    if not os.path.isdir(out_dir):
        die_usage(f"--out {a.out}: directory {out_dir} does not exist")
    return a


def make_prompt(args, phase, prompt_size, batch_size, rep, i):
    # String seeds hash deterministically (independent of PYTHONHASHSEED).
    rng = random.Random(f"{args.seed}/{phase}/{prompt_size}/{batch_size}/{rep}/{i}")
    return [rng.randint(TOKEN_ID_LO, TOKEN_ID_HI) for _ in range(prompt_size)]


class Request:
    """One streaming completion; filled in by run() on its own thread."""

    def __init__(self, args, prompt):
        self.args = args
        self.body = json.dumps({
            "model": args.model,
            "prompt": prompt,
            "max_tokens": args.output_tokens,
            "min_tokens": args.output_tokens,
            "ignore_eos": True,
            "temperature": 0,
            "stream": True,
            "stream_options": {"include_usage": True},
        }).encode()
        self.prompt_size = len(prompt)
        self.conn = None
        self.error = None
        self.t_first = None
        self.t_last = None
        self.chunks = 0
        self.usage = None

    def connect(self):
        a = self.args
        cls = http.client.HTTPSConnection if a.scheme == "https" else http.client.HTTPConnection
        self.conn = cls(a.host, a.port, timeout=a.timeout)
        self.conn.connect()

    def run(self, barrier, t0_box):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            self.error = "launch barrier broken"
            return
        try:
            self._stream(t0_box[0])
        except MeasureError as e:
            self.error = str(e)
        except (OSError, http.client.HTTPException) as e:
            self.error = f"{type(e).__name__}: {e}"
        except Exception as e:  # malformed response: report it, never hang the batch
            self.error = f"unexpected response ({type(e).__name__}: {e})"
        finally:
            self.conn.close()

    def _stream(self, t0):
        a = self.args
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if a.api_key:
            headers["Authorization"] = f"Bearer {a.api_key}"
        self.conn.request("POST", a.path, body=self.body, headers=headers)
        resp = self.conn.getresponse()
        if resp.status != 200:
            text = resp.read(2000).decode("utf-8", "replace").strip()
            raise MeasureError(f"HTTP {resp.status} {resp.reason} from {a.path}: {text}")
        done = False
        while True:
            line = resp.readline()
            now = time.perf_counter()
            if not line:
                break
            if now - t0 > a.timeout:
                raise MeasureError(f"request took more than --timeout {a.timeout:g} s")
            line = line.strip()
            if not line.startswith(b"data:"):
                continue  # blank separators, comments, event:/id: fields
            data = line[5:].strip()
            if data == b"[DONE]":
                done = True
                break
            try:
                obj = json.loads(data)
            except ValueError:
                raise MeasureError(f"bad SSE data line: {data[:200]!r}")
            if not isinstance(obj, dict):
                raise MeasureError(f"bad SSE data line: {data[:200]!r}")
            if "error" in obj:
                raise MeasureError(f"server error in stream: {json.dumps(obj['error'])[:500]}")
            choices = obj.get("choices")
            if choices:
                # Each chunk carrying choices[0] is one token (vLLM streams per step).
                if self.t_first is None:
                    self.t_first = now
                self.t_last = now
                self.chunks += 1
            if obj.get("usage"):
                self.usage = obj["usage"]
        if not done:
            raise MeasureError("stream ended without 'data: [DONE]'")
        tokens = self.tokens()
        if tokens < a.output_tokens:
            raise MeasureError(f"got {tokens} tokens, asked for {a.output_tokens} "
                               "(does the server honour min_tokens/ignore_eos?)")
        if self.chunks < 2:
            raise MeasureError(f"got {self.chunks} streamed chunk(s); need 2 to time decoding")
        if self.usage and isinstance(self.usage.get("prompt_tokens"), int) \
                and self.usage["prompt_tokens"] != self.prompt_size:
            raise MeasureError(f"server counted {self.usage['prompt_tokens']} prompt tokens, "
                               f"sent {self.prompt_size}")

    def tokens(self):
        if self.usage and isinstance(self.usage.get("completion_tokens"), int):
            return self.usage["completion_tokens"]
        return self.chunks


def run_batch(args, phase, prompt_size, batch_size, rep):
    """Launch batch_size requests at once; return (prompt_ms, token_ms)."""
    where = f"prompt_size={prompt_size} batch_size={batch_size} " + (
        f"repeat={rep + 1}" if phase == "measure" else f"warmup={rep + 1}")
    reqs = [Request(args, make_prompt(args, phase, prompt_size, batch_size, rep, i))
            for i in range(batch_size)]
    try:
        for r in reqs:  # connect first so the launch instant excludes TCP setup
            r.connect()
    except OSError as e:
        for r in reqs:
            if r.conn:
                r.conn.close()
        raise MeasureError(f"{where}: cannot connect to {args.host}:{args.port}: {e}")
    t0_box = [0.0]

    def launch():
        t0_box[0] = time.perf_counter()

    barrier = threading.Barrier(batch_size, action=launch)
    threads = [threading.Thread(target=r.run, args=(barrier, t0_box), daemon=True) for r in reqs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [(i, r.error) for i, r in enumerate(reqs) if r.error]
    if errors:
        i, msg = errors[0]
        more = f" (and {len(errors) - 1} more failed requests)" if len(errors) > 1 else ""
        raise MeasureError(f"{where}: request {i + 1}/{batch_size}: {msg}{more}")
    t0 = t0_box[0]
    prompt_ms = 1000 * max(r.t_first - t0 for r in reqs)
    token_ms = 1000 * sum((r.t_last - r.t_first) / (r.tokens() - 1) for r in reqs) / batch_size
    return prompt_ms, token_ms


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    rows = []
    try:
        for w in range(args.warmup):
            run_batch(args, "warmup", min(args.prompt_sizes), max(args.batch_sizes), w)
        for ps in args.prompt_sizes:
            for bs in args.batch_sizes:
                for rep in range(args.repeats):
                    pm, tm = run_batch(args, "measure", ps, bs, rep)
                    print(f"prompt_size={ps} batch_size={bs} repeat={rep + 1}: "
                          f"prompt_time {pm:.2f} ms, token_time {tm:.3f} ms",
                          file=sys.stderr, flush=True)
                    rows.append(f"{args.csv_model},{args.hardware},{ps},{bs},"
                                f"{args.output_tokens},{pm:.3f},{tm:.4f},{args.tp}")
    except MeasureError as e:
        print(f"measure_vllm.py: {args.url}: {e}", file=sys.stderr)
        print("measure_vllm.py: no CSV written", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("measure_vllm.py: interrupted; no CSV written", file=sys.stderr)
        return 1
    tmp = args.out + ".tmp"
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(HEADER + "\n")
            for r in rows:
                f.write(r + "\n")
        os.replace(tmp, args.out)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        print(f"measure_vllm.py: cannot write {args.out}: {e}", file=sys.stderr)
        return 1
    print(f"wrote {len(rows)} rows to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
