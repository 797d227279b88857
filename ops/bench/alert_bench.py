#!/usr/bin/env python3
"""Alert benchmark driver (run by ops/bench/alert-bench.sh).

1. Latency: `vigie run` watches a spool; COUNT generated sale posts, each its own incident,
   are dropped into it at RATE per second; the local receiver logs when each signed alert
   arrives. Latency = arrival - drop time, per document: median and p99.
2. Throughput: the same posts `vigie ingest`-ed into a fresh store (COUNT alerts queued), then
   `vigie alerts deliver` timed to the last acceptance: alerts/s. Baseline: the same number of
   signed 2 KB POSTs sent one after another by Python's http.client to the same receiver.
Everything runs on 127.0.0.1.
"""
import hashlib
import hmac
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time

vigie, root, count, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
rng = random.Random(20261123)
SECRET = "bench-secret-0123456789abcdef"
os.environ["VIGIE_BENCH_SECRET"] = SECRET

vocab = ("base patients dossiers extraction serveur accès compte hôpital clinique laboratoire "
         "vente achat prix lot fichier dump export mutuelle assurance résultats analyses rendez "
         "vous médecins infirmiers service urgences radiologie pharmacie ordonnances données "
         "fraîches exclusif vérifié échantillon preuve escrow garant monero bitcoin telegram "
         "database leak fresh private sample proof buyer seller records hospital lab access "
         "база данных продам пациенты больница доступ свежая выгрузка").split()

def nir():
    while True:
        body = f"{rng.choice([1, 2])}{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}{rng.choice([13, 33, 44, 59, 69, 75, 92]):02d}{rng.randint(100, 990):03d}{rng.randint(1, 999):03d}"
        return body + f"{97 - int(body) % 97:02d}"

def word():
    # Mostly vocabulary, some random letter strings: each post is its own sale (digits are
    # reduced to their class by the near-duplicate signature, so they would not separate posts).
    if rng.random() < 0.5:
        return rng.choice(vocab)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9)))

def post(i):
    words = " ".join(word() for _ in range(150))
    rows = "\n".join(f"N{i}x{j};P{j};{nir()};06{rng.randint(10**7, 10**8 - 1)}" for j in range(5))
    return (f"[VENTE] lot {i} {words}\nnom;prenom;nir;telephone\n{rows}\n"
            f"Prix {rng.randint(100, 9000)} USD en BTC, contact @seller{i}\n")

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def start_receiver(port, log):
    p = subprocess.Popen([sys.executable, os.path.join(root, "tests/fixtures/webhook/receiver.py"),
                          "--port", str(port), "--secret-env", "VIGIE_BENCH_SECRET", "--log", log],
                         stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close(); return p
        except OSError:
            time.sleep(0.05)
    raise SystemExit("receiver did not start")

def config(dir, port, spool=None):
    path = os.path.join(dir, "vigie.toml")
    with open(path, "w") as f:
        f.write(f'[store]\npath = "store"\n')
        if spool:
            f.write(f'[run]\nspool = "{spool}"\npoll_ms = 50\n')
        f.write(f'[delivery]\nworkers = 4\n[[recipient]]\nid = "cert"\nurl = "http://127.0.0.1:{port}/hook"\n'
                f'secret_env = "VIGIE_BENCH_SECRET"\ncatch_all = true\nmin_severity = "medium"\n')
    return path

def accepted(log):
    out = {}
    if os.path.exists(log):
        for line in open(log):
            r = json.loads(line)
            if r["new"]:
                out[r["key"]] = r
    return out

posts = [post(i) for i in range(count)]

# 1. Latency through `vigie run`.
with tempfile.TemporaryDirectory() as d:
    port = free_port(); log = os.path.join(d, "recv.log")
    recv = start_receiver(port, log)
    spool = os.path.join(d, "spool"); os.makedirs(spool)
    cfg = config(d, port, spool)
    run = subprocess.Popen([vigie, "--config", cfg, "run"], stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    dropped = {}
    t0 = time.time()
    for i, text in enumerate(posts):
        name = f"post-{i:06d}.txt"
        tmp = os.path.join(spool, "." + name)
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, os.path.join(spool, name))
        dropped[f"file:{name}"] = time.time()
        delay = t0 + (i + 1) / rate - time.time()
        if delay > 0:
            time.sleep(delay)
    deadline = time.time() + 120
    while len(accepted(log)) < count and time.time() < deadline:
        time.sleep(0.2)
    run.terminate(); run.wait(); recv.terminate(); recv.wait()
    got = accepted(log)
    lat = sorted((r["time"] - dropped[r["location"]]) * 1000 for r in got.values() if r["location"] in dropped)
    print(f"latency, vigie run (spool poll 50 ms, 4 delivery workers), {count} incidents dropped at {rate:.0f}/s: "
          f"{len(lat)} alerts received; median {statistics.median(lat):.0f} ms, p99 {lat[int(len(lat) * 0.99) - 1]:.0f} ms, max {lat[-1]:.0f} ms")

# 2. Throughput: deliver a backlog of COUNT alerts.
with tempfile.TemporaryDirectory() as d:
    port = free_port(); log = os.path.join(d, "recv.log")
    recv = start_receiver(port, log)
    inp = os.path.join(d, "posts"); os.makedirs(inp)
    for i, text in enumerate(posts):
        with open(os.path.join(inp, f"post-{i:06d}.txt"), "w") as f:
            f.write(text)
    cfg = config(d, port)
    subprocess.run([vigie, "--config", cfg, "ingest", "--source", "bench", inp], check=True, stdout=subprocess.DEVNULL)
    t = time.time()
    subprocess.run([vigie, "--config", cfg, "alerts", "deliver"], check=True, stdout=subprocess.DEVNULL)
    vigie_s = time.time() - t
    n = len(accepted(log))
    # Baseline: the same number of signed POSTs of a typical payload, one after another.
    body = open(os.path.join(d, "body.json"), "w")
    sample = json.dumps({"schema": "vigie.alert/1", "pad": "x" * 2000}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    t = time.time()
    for i in range(count):
        ts = str(int(time.time()))
        sig = hmac.new(SECRET.encode(), ts.encode() + b"." + sample, hashlib.sha256).hexdigest()
        conn.request("POST", "/hook", sample, {"Content-Type": "application/json", "Vigie-Signature": f"t={ts},v1={sig}",
                                               "Idempotency-Key": f"baseline-{i}"})
        conn.getresponse().read()
    base_s = time.time() - t
    recv.terminate(); recv.wait()
    print(f"throughput, vigie alerts deliver (one sender, {count} queued alerts): {n} delivered in {vigie_s:.2f} s = {n / vigie_s:,.0f} alerts/s")
    print(f"baseline, Python http.client signed POSTs to the same receiver: {count / base_s:,.0f} req/s; ratio vigie/baseline = {(n / vigie_s) / (count / base_s):.2f}")
