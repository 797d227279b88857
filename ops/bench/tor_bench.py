#!/usr/bin/env python3
"""Tor collector benchmark in the lab (called by tor-lab-bench.sh).

1. Throughput: `vigie crawl` of 1, 4 and 16 sources at once, each source a copy of the forum
   behind its own onion address (fresh store each time: descriptor fetches and circuits are
   part of the cost, bootstrap is not). Pages per minute, median of REPS runs, and the ratio
   to one source.
2. Latency: `vigie run` following the forum every INTERVAL s; posts appear one at a time;
   time from the post being written to the "tor post recorded" log line of its anchor.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

vigie, root, lab_dir, reps, posts, interval = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
env_lab = dict(l.strip().split("=", 1) for l in open(os.path.join(lab_dir, "lab.env")) if "=" in l)
work = os.path.join(lab_dir, "bench")
os.makedirs(work, exist_ok=True)
env = dict(os.environ, VIGIE_LAB_FORUM_COOKIE=env_lab["VIGIE_LAB_FORUM_COOKIE"], RUST_LOG="warn,vigie=info,vigie_tor=info")


def config(name, hosts, extra_run=""):
    path = os.path.join(work, name + ".toml")
    with open(path, "w") as f:
        f.write('[store]\npath = "%s"\n\n[run]\npoll_ms = 100\n%s\n[tor]\nmode = "arti"\narti_config = "%s/arti.toml"\n'
                'max_concurrent = 16\nconnect_timeout_secs = 30\nfetch_timeout_secs = 60\nbackoff_ms = 500\n\n'
                % (os.path.join(work, name + "-store"), extra_run, lab_dir))
        for i, h in enumerate(hosts):
            f.write('[[tor_source]]\nid = "forum%d"\nkind = "forum"\nengine = "phpbb"\nmirrors = ["http://%s/"]\n'
                    'start = "/index.php"\nmax_pages = 200\ninterval_secs = %d\njitter = 0.0\n\n' % (i + 1, h, interval))
    return path


print("== throughput: vigie crawl of N sources at once, each its own onion (median of %d runs)" % reps)
extras = [env_lab["LAB_EXTRA%d" % k] for k in range(1, 17)]
base = None
for n in (1, 4, 16):
    rates, pages = [], 0
    for r in range(reps):
        name = "crawl%d-%d" % (n, r)
        cfg = config(name, extras[:n])
        ids = ["forum%d" % (i + 1) for i in range(n)]
        t = time.time()
        out = subprocess.run([vigie, "--config", cfg, "crawl", "--json"] + ids, env=env, capture_output=True, text=True)
        recs = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
        if out.returncode != 0 or len(recs) != n:
            print(out.stderr[-2000:], file=sys.stderr)
            sys.exit("crawl of %d sources failed" % n)
        pages = sum(x["pages_ok"] for x in recs)
        # Per-source elapsed times overlap; the slowest is the wall time of the crawl.
        wall = max(x["elapsed_ms"] for x in recs) / 1000.0
        rates.append(pages * 60.0 / wall)
    med = statistics.median(rates)
    base = base or med
    print("sources=%2d  pages/run=%4d  pages/min median %7.0f  (runs: %s)  ratio to 1 source %.2fx"
          % (n, pages, med, ", ".join("%.0f" % x for x in rates), med / base))

print("== latency: post written on the forum -> sighting recorded by vigie run (interval %d s)" % interval)
cfg = config("latency", [env_lab["LAB_FORUM1"]], "")
log_path = os.path.join(work, "run.log")
log = open(log_path, "w")
run = subprocess.Popen([vigie, "--config", cfg, "run"], env=env, stderr=log)
try:
    deadline = time.time() + 180
    while "tor source run finished" not in open(log_path).read():
        if time.time() > deadline:
            sys.exit("vigie run never finished a first crawl")
        time.sleep(0.5)
    lat = []
    for i in range(posts):
        time.sleep(interval * 0.37 + 1.3)  # spread over the polling phase
        t0 = time.time()
        pid = subprocess.run(["python3", os.path.join(root, "ops/lab/site.py"), "--root", os.path.join(lab_dir, "site"),
                              "--add-post", "1", "Bench post %d: nouvel échantillon CHU de Nantes." % i],
                             capture_output=True, text=True, check=True).stdout.strip()
        pat = re.compile(r"^(\S+).*tor post recorded.*#%s\b" % pid, re.M)
        while True:
            m = pat.search(open(log_path).read())
            if m:
                ts = datetime.strptime(m.group(1)[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()
                lat.append(ts - t0)
                break
            if time.time() - t0 > interval * 4 + 60:
                sys.exit("post %s never recorded" % pid)
            time.sleep(0.05)
    lat.sort()
    print("posts=%d  latency median %.2f s  p90 %.2f s  max %.2f s  min %.2f s  (median = %.2fx the interval)"
          % (len(lat), statistics.median(lat), lat[int(0.9 * (len(lat) - 1))], lat[-1], lat[0], statistics.median(lat) / interval))
finally:
    run.terminate()
    run.wait()
