#!/usr/bin/env python3
"""Crafted results databases for `fleetsim report` (tests/e2e/report_hostile.sh, the
fuzz_resultsdb seed corpus, tests/hostile/*.db).

usage: make_resultsdb.py RUN.db SWEEP.db OUTDIR

RUN.db and SWEEP.db are small real files (`fleetsim run light.yaml --set
workload.synthetic.requests=20 --requests`, a 2-point `fleetsim sweep`).  Writes
OUTDIR/run.db, OUTDIR/sweep.db (cleaned copies) and OUTDIR/<case>.db for each crafted
case below, all in rollback-journal mode (no -wal/-shm beside them) and vacuumed, and
prints "CASE|MESSAGE" lines: the substring `fleetsim report` must print for each.
"""
import os, shutil, sqlite3, sys

run_db, sweep_db, out = sys.argv[1:4]
os.makedirs(out, exist_ok=True)

NOT = "not a fleetsim results database"
# name: (base, SQL, expected message substring)
CASES = {
    "point_neg": ("sweep", "UPDATE sweeps SET point = -1 WHERE rowid = (SELECT min(rowid) FROM sweeps)",
                  "point -1 is not in 0..1"),
    "point_9999": ("sweep", "UPDATE sweeps SET point = 9999 WHERE rowid = (SELECT min(rowid) FROM sweeps)",
                   "point 9999 is not in 0..1"),
    "point_text": ("sweep", "UPDATE sweeps SET point = 'x' WHERE rowid = (SELECT min(rowid) FROM sweeps)",
                   "point x is not in 0..1"),
    "run_dangling": ("sweep", "UPDATE sweeps SET run_id = 424242 WHERE rowid = (SELECT min(rowid) FROM sweeps)",
                     "names run 424242, which is not in runs"),
    "grid_broken": ("sweep", "UPDATE sweep_defs SET grid = '{\"params\": [{\"key\": '", "grid is not a JSON object"),
    "grid_values": ("sweep", "UPDATE sweep_defs SET grid = json_set(grid, '$.params[0].values', 3)",
                    "has no string key or no values"),
    "grid_points": ("sweep", "UPDATE sweep_defs SET points = 5", "points is 5 but the grid's parameters make 2"),
    "grid_huge": ("sweep", "UPDATE sweep_defs SET points = 9223372036854775807", "is not in 1..10000000"),
    "no_sweep_def": ("sweep", "DELETE FROM sweep_defs", "which sweep_defs lacks"),
    "quantile_q": ("sweep", "UPDATE quantiles SET q = 7 WHERE rowid = (SELECT min(rowid) FROM quantiles)", "or its q is not in 0..1"),
    "quantile_text": ("sweep", "UPDATE quantiles SET value_s = 'abc'", "quantile is not a finite number"),
    "policy_int": ("run", "UPDATE runs SET policy = x'41'", "policy is not text"),
    "params_json": ("run", "UPDATE runs SET params = '{\"scenario_file\": '", "params is not JSON text"),
    "metric_text": ("run", "UPDATE pool_metrics SET gpu_hours = 'lots'", "pool_metrics.gpu_hours is not a finite number"),
    "no_fleet_row": ("run", "DELETE FROM pool_metrics WHERE pool = '*'", "has no fleet-wide pool_metrics row"),
    "pool_blob": ("run", "UPDATE pool_metrics SET pool = x'01' WHERE pool <> '*'", "has no pool name"),
    "ts_running": ("run", "UPDATE timeseries SET running = 'many'", "running is not an integer"),
    "ts_time": ("run", "UPDATE timeseries SET t_s = 1e999", "a timeseries row has a bad time"),
    "req_ttft": ("run", "UPDATE requests SET ttft_s = -5 WHERE ttft_s IS NOT NULL", "time in requests is not a finite"),
    "run_id_neg": ("run", "UPDATE runs SET run_id = -3", "not a positive integer"),
    "no_runs_table": ("run", "DROP TABLE runs", "(no table runs)"),
    "runs_view": ("run", "ALTER TABLE runs RENAME TO runs0; CREATE VIEW runs AS SELECT * FROM runs0",
                  "(no table runs)"),
    "no_column": ("run", "ALTER TABLE pool_metrics DROP COLUMN gpu_hours", "table pool_metrics has no column gpu_hours"),
    "no_version": ("run", "PRAGMA user_version = 0", "(no fleetsim schema version)"),
    "newer_version": ("run", "PRAGMA user_version = 99", "written by a newer fleetsim"),
}


def finish(path):
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode = DELETE")
    c.execute("VACUUM")
    c.close()


for base, src in (("run", run_db), ("sweep", sweep_db)):
    dst = os.path.join(out, base + ".db")
    c = sqlite3.connect(src)
    d = sqlite3.connect(dst)
    c.backup(d)
    c.close()
    d.close()
    finish(dst)

for name, (base, sql, msg) in CASES.items():
    dst = os.path.join(out, name + ".db")
    shutil.copy(os.path.join(out, base + ".db"), dst)
    c = sqlite3.connect(dst, isolation_level=None)
    c.execute("PRAGMA ignore_check_constraints = ON")
    c.execute("PRAGMA foreign_keys = OFF")
    c.executescript(sql)
    c.close()
    finish(dst)
    print(f"{name}|{msg}")

with open(os.path.join(out, "not_sqlite.db"), "w") as f:
    f.write("run_id,policy\n1,single\n" * 100)
print(f"not_sqlite|{NOT} (not an SQLite file)")
open(os.path.join(out, "empty.db"), "w").close()
print(f"empty|{NOT} (no fleetsim schema version)")
# A real SQLite page header followed by garbage: SQLite says "malformed".
with open(os.path.join(out, "run.db"), "rb") as f:
    data = bytearray(f.read())
data[4096:] = bytes((i * 37) & 0xff for i in range(len(data) - 4096))
with open(os.path.join(out, "garbage_pages.db"), "wb") as f:
    f.write(data)
print(f"garbage_pages|{NOT}")
