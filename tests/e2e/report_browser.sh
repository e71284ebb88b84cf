#!/usr/bin/env bash
# e2e (issue 18): the sizing report in a real browser.  `fleetsim plan` on a small
# scenario whose pool has a long name without spaces and HTML in it, with a what-if;
# headless Chromium loads a copy of report.html with a probe script at a 1,280 x 900
# window and the page must not scroll sideways (documentElement.scrollWidth <=
# innerWidth), no table, figure or the recommended row may end beyond the window, and
# report.html prints to a PDF (Chromium's --print-to-pdf, what `plan --pdf` runs).
# Exit 77 without Chromium or gnuplot.
set -u
bin=$(realpath "${1:?usage: report_browser.sh FLEETSIM}")
SRC=${FS_SOURCE_DIR:-$(pwd)}
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$CHROME" ] || { echo "skip: no chromium"; exit 77; }
command -v gnuplot > /dev/null || { echo "skip: no gnuplot"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
[ -n "${KEEP:-}" ] && trap - EXIT && echo "$T"
fail() { echo "FAIL: $*"; exit 1; }

# plan_tune.yaml with a 60-character pool name that has no break opportunity.
sed 's/name: all,/name: "p<b>\&amp;-long-name-that-never-breaks-anywhere-xxxxxxxxxxxx",/' \
	"$SRC/tests/data/scenarios/plan_tune.yaml" > "$T/s.yaml"
grep -q 'never-breaks' "$T/s.yaml" || fail "scenario not made"
"$bin" plan "$T/s.yaml" --gpus h100 --precisions bf16 --no-verify --load-scale 0.5,1 \
	--server-price 250000 --power-price 0.12 --spares 1 --out "$T/out" --db "$T/p.db" -q \
	> "$T/plan.log" 2>&1 || { cat "$T/plan.log"; fail "plan failed"; }
[ -s "$T/out/report.html" ] || fail "no report.html"

# The probe writes its measurements into the DOM; --dump-dom prints the DOM after load.
probe='<script>window.addEventListener("load",function(){var e=document.documentElement,w=window.innerWidth,bad=[];document.querySelectorAll("table,figure,img,tr.best,.rec").forEach(function(t){var r=t.getBoundingClientRect().right;if(r>w+0.5)bad.push(t.tagName+":"+Math.round(r));});var p=document.createElement("pre");p.id="fs-probe";p.textContent="scrollWidth="+e.scrollWidth+" innerWidth="+w+" beyond="+bad.length+" "+bad.join(",");document.body.appendChild(p);});</script>'
sed "s#</body>#${probe}</body>#" "$T/out/report.html" > "$T/out/probe.html"
grep -q 'fs-probe' "$T/out/probe.html" || fail "probe not inserted"
timeout 120 "$CHROME" --headless --disable-gpu --no-sandbox --hide-scrollbars --window-size=1280,900 \
	--virtual-time-budget=5000 --dump-dom "file://$T/out/probe.html" > "$T/dom.html" 2> "$T/chrome.log"
line=$(grep -o 'fs-probe">[^<]*' "$T/dom.html" | head -1)
[ -n "$line" ] || { tail -5 "$T/chrome.log"; fail "chromium ran no probe"; }
echo "  $line"
sw=$(echo "$line" | sed -n 's/.*scrollWidth=\([0-9]*\).*/\1/p')
iw=$(echo "$line" | sed -n 's/.*innerWidth=\([0-9]*\).*/\1/p')
nb=$(echo "$line" | sed -n 's/.*beyond=\([0-9]*\).*/\1/p')
[ -n "$sw" ] && [ -n "$iw" ] && [ "$iw" -ge 1200 ] || fail "probe output: $line"
[ "$sw" -le "$iw" ] || fail "report.html overflows 1280 px: scrollWidth $sw > innerWidth $iw"
[ "$nb" = 0 ] || fail "elements end beyond the window: $line"

# Printable: Chromium prints report.html (its @media print rules) to a PDF.
grep -q '@media print' "$T/out/report.html" || fail "no print stylesheet"
timeout 120 "$CHROME" --headless --disable-gpu --no-sandbox --no-pdf-header-footer \
	--print-to-pdf="$T/out/report.pdf" "file://$T/out/report.html" > /dev/null 2>&1
head -c 4 "$T/out/report.pdf" 2> /dev/null | grep -q '%PDF' || fail "no PDF printed"
echo "  report.pdf: $(stat -c %s "$T/out/report.pdf") bytes"
echo OK
