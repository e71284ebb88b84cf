#!/usr/bin/env bash
# e2e (issue 15): hostile but printable names (scenario, policies, pools, a GPU file's
# name and display, a GPU path, a config.json _name_or_path) go through every writer of
# `fleetsim run --plots` and `fleetsim plan`, and every output is parsed back: gnuplot
# scripts are run again by gnuplot and no marker file appears; the HTML report, read by
# python3's html.parser, has no element or attribute of a name's making; the
# Kubernetes manifests (python3 yaml, when installed) hold one document per object,
# DNS-1123 object names and the original names back.  Exit 77 without gnuplot or python3.
set -u
bin=$(realpath "${1:?usage: hostile_names.sh FLEETSIM}")
command -v gnuplot > /dev/null || { echo "skip: no gnuplot"; exit 77; }
command -v python3 > /dev/null || { echo "skip: no python3"; exit 77; }
T=$(mktemp -d)
trap "rm -rf \"$T\"" EXIT; [ -n "${KEEP:-}" ] && trap - EXIT && echo "$T"
cd "$T" || exit 1
fail=0
die() { echo "FAIL: $*"; fail=1; }

gpuf="evil'.system('touch MARKER_PATH').'\$(touch MARKER_SH).yaml"
cat > "$gpuf" <<'YAML'
name: "g'.system('touch MARKER_GPU').'<script>alert(1)</script>"
display: "x\" hostPID: true |pipe| $(touch MARKER_SH2)"
base: h100
YAML
mkdir m
python3 - <<'PY'
import json
json.dump({"_name_or_path": "m\" securityContext: {privileged: true} '.system('touch MARKER_MODEL').'",
           "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
           "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 128256,
           "max_position_embeddings": 131072}, open("m/config.json", "w"))
PY
cat > s.yaml <<YAML
name: "<script>alert(1)</script>|pipe|\$(touch MARKER_SH3)'.system('touch MARKER_SC').'"
seed: 1
workload:
  synthetic:
    requests: 300
    arrival: {process: poisson, rate: 5}
    input: {dist: constant, value: 200}
    output: {dist: constant, value: 20}
model: m/config.json
slo: {ttft_p99: 5.0, tpot_p99: 0.5}
policies:
  - name: "single'.system('touch MARKER_POL').'<b>"
    pools:
      - {name: "a --- kind: Pod'.system('touch MARKER_POOL').'", gpu: "$gpuf", replicas: 1, max_model_len: 4096}
  - name: "dual|x</td><script>"
    router: {type: token_budget, threshold: 300}
    pools:
      - {name: "x\\" hostPID: true", gpu: "$gpuf", replicas: 1, max_model_len: 4096}
      - {name: "\$(touch MARKER_SH4) <i>", gpu: "$gpuf", replicas: 1, max_model_len: 4096}
YAML

"$bin" run s.yaml --db r.db -q --plots plots > run.log 2>&1 || { cat run.log; die "run failed"; }
"$bin" plan s.yaml --db r.db -q --out out --gpus "$gpuf,h100" --precisions bf16 --load-scale 1,2 \
	> plan.log 2>&1 || { cat plan.log; die "plan failed"; }
# Every gnuplot script once more, by gnuplot itself, in its directory.
for gp in plots/*.gp out/plots/*.gp; do
	[ -f "$gp" ] || continue
	(cd "$(dirname "$gp")" && gnuplot "$(basename "$gp")") > /dev/null 2>&1 || die "gnuplot $gp failed"
done
found=$(find . -name 'MARKER*')
[ -z "$found" ] || die "a name ran a command: $found"
ls plots/*.gp > /dev/null 2>&1 || die "run wrote no gnuplot script"
ls out/plots/*.gp > /dev/null 2>&1 || die "plan wrote no gnuplot script"

python3 - out/report.html <<'PY' || fail=1
import sys
from html.parser import HTMLParser
allowed = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "div", "strong",
           "table", "tr", "th", "td", "figure", "img", "figcaption", "section", "ul", "li"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text = []
        self.bad = []
    def handle_starttag(self, tag, attrs):
        if tag not in allowed:
            self.bad.append(tag)
        for k, _ in attrs:
            if k not in ("lang", "charset", "class", "alt", "src", "id"):
                self.bad.append(tag + "@" + k)
    def handle_endtag(self, tag):
        if tag not in allowed:
            self.bad.append("/" + tag)
    def handle_data(self, d):
        self.text.append(d)
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
text = "".join(p.text)
if p.bad:
    sys.exit("FAIL: markup made by a name: %s" % sorted(set(p.bad)))
for name in ("<script>alert(1)</script>|pipe|$(touch MARKER_SH3)'.system('touch MARKER_SC').'",
             "m\" securityContext: {privileged: true} '.system('touch MARKER_MODEL').'"):
    if name not in text:
        sys.exit("FAIL: name missing from the report's text: %s" % name)
PY
grep -q '<script>' out/report.md && die "report.md holds a raw <script>" # md: raw HTML would render
grep '^|' out/report.md | grep -qF '|pipe|' && die "report.md holds an unescaped | in a table cell"

if python3 -c 'import yaml' 2> /dev/null; then
	python3 - out/manifests <<'PY' || fail=1
import os, re, sys, yaml
d = sys.argv[1]
dns = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
label_value = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
pools = {"a --- kind: Pod'.system('touch MARKER_POOL').'", "x\" hostPID: true", "$(touch MARKER_SH4) <i>"}
seen = set()
for f in sorted(os.listdir(d)):
    docs = [x for x in yaml.safe_load_all(open(os.path.join(d, f), encoding="utf-8")) if x is not None]
    for doc in docs:
        kind = doc["kind"]
        name = doc["metadata"]["name"]
        if kind != "ConfigMap" and (len(name) > 63 or not dns.match(name)):
            sys.exit("FAIL: %s: object name %r is not a DNS-1123 label" % (f, name))
        orig = doc["metadata"].get("annotations", {}).get("fleetsim.io/pool-name")
        if orig is not None:
            seen.add(orig)
        if kind == "Deployment":
            pod = doc["spec"]["template"]["spec"]
            if set(pod) != {"nodeSelector", "containers", "volumes"} or len(pod["containers"]) != 1:
                sys.exit("FAIL: %s: pod spec %r" % (f, sorted(pod)))
            c = pod["containers"][0]
            if "securityContext" in c or not c["args"][0].startswith("--model=m\" securityContext"):
                sys.exit("FAIL: %s: container %r" % (f, c))
            # the node label is a valid label value made from the display name, which
            # the Deployment keeps as it was in an annotation
            gp = pod["nodeSelector"]["nvidia.com/gpu.product"]
            if len(gp) > 63 or not label_value.match(gp) or "hostPID" not in gp:
                sys.exit("FAIL: %s: gpu.product %r" % (f, pod["nodeSelector"]))
            if doc["metadata"]["annotations"]["fleetsim.io/gpu"] != "x\" hostPID: true |pipe| $(touch MARKER_SH2)":
                sys.exit("FAIL: %s: gpu annotation %r" % (f, doc["metadata"]["annotations"]))
    kinds = [x["kind"] for x in docs]
    if f.startswith("kueue"):
        ok = kinds and (set(kinds) == {"LocalQueue"} or kinds == ["ResourceFlavor", "ClusterQueue"])
    elif f.startswith("router"):
        ok = kinds == ["ConfigMap"]
    else:
        ok = kinds == ["Deployment", "Service"]
    if not ok:
        sys.exit("FAIL: %s: documents %r" % (f, kinds))
if not seen or not seen <= pools:
    sys.exit("FAIL: original pool names %r, want some of %r" % (seen, pools))
PY
else
	echo "note: python3 yaml missing; manifests are parsed by the unit test (test_escape)"
fi

# Names with control characters are refused at load, exit 2, at every entry point.
check2() { # WHAT MESSAGE ARGS...
	local what=$1 msg=$2 out rc
	shift 2
	out=$("$bin" "$@" 2>&1); rc=$?
	[ $rc = 2 ] || die "$what: exit $rc, want 2"
	echo "$out" | grep -qF -- "$msg" || die "$what: no '$msg' in: $out"
	printf '%s' "$out" | grep -q "$(printf '[\001-\010\013-\037\177]')" && die "$what: control character printed"
}
sed 's/^name: .*/name: "s\\e[2J\\a"/' s.yaml > c1.yaml
check2 scenario "c1.yaml:1:8: scenario name contains a control character" run c1.yaml --db r.db -q
sed 's/- name: "single.*/- name: "p\\a"/' s.yaml > c2.yaml
check2 policy "policy name contains a control character (byte 0x07" run c2.yaml --db r.db -q
sed 's/name: "x\\" hostPID: true"/name: "x\\"\\nhostPID: true"/' s.yaml > c3.yaml
check2 pool "pool name contains a control character (byte 0x0a" plan c3.yaml --db r.db -q --out o3 --gpus h100
printf 'name: "g\\e]0;t\\a"\nbase: h100\n' > cg.yaml
check2 gpu_name "cg.yaml:1:8: name contains a control character" memory --gpu cg.yaml --model llama-3.1-8b
printf 'name: g\ndisplay: "x\\"\\nhostPID: true"\nbase: h100\n' > cd.yaml
check2 gpu_display "cd.yaml:2:11: display contains a control character" plan s.yaml --db r.db -q --out o4 --gpus cd.yaml
mkdir m2
python3 -c 'import json; d=json.load(open("m/config.json")); d["_name_or_path"]="m\"\n  privileged: true\x1b"; json.dump(d, open("m2/config.json","w"))'
check2 model "m2/config.json: '_name_or_path' contains a control character" memory --gpu h100 --model m2/config.json
[ -z "$(find . -name 'MARKER*')" ] || die "a marker appeared"
[ $fail = 0 ] && echo "hostile names: all outputs parse back"
exit $fail
