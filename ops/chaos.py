#!/usr/bin/env python3
"""Chaos test of `vigie run`: SIGKILLed at random moments while posts arrive and a flaky
receiver takes its alerts; then checks that nothing was lost or recorded twice.

Everything is on 127.0.0.1: a local forum (ops/lab/site.py, read by the Tor collector in
loopback mode), a spool directory, and a webhook receiver (in this process) that answers 30 %
of requests 500 (a third of those slowly), drops 10 % of connections without an answer,
answers 10 % slowly (0.5-3.5 s, beyond the 2 s delivery timeout at times), and logs every
POST with its Idempotency-Key. Each cycle drops posts into the spool and the forum, starts
`vigie run`, and SIGKILLs it at a random moment (0.2-3 s). A final run ends with SIGTERM once
the spool is empty, every forum post is recorded and no alert is pending. Then:
  - every post is recorded exactly once: snapshots = posts (each post's text is unique),
  - `vigie evidence verify` passes,
  - every alert is delivered and was accepted (HTTP 200) by the receiver: zero lost,
  - every incident at or above the catch-all recipients' minimum severity has its alert,
and the duplicate POSTs per key (at-least-once across a kill) are reported.

  chaos.py --vigie BIN [--kills 50] [--seed 1] [--work DIR]

The schedule (kill moments, posts, the receiver's answers in order) follows --seed; thread
timing makes two runs close, not identical. Prints a JSON summary on stdout; exit 0 when
every invariant holds, 1 otherwise.
"""
import argparse
import hashlib
import hmac
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "chaos-secret-" + "%032x" % random.SystemRandom().getrandbits(128)
# Every example post (sales, dumps, chatter, decoys, reposts): each its own incident or none.
TEMPLATES = sorted(os.path.join(d, f) for d in ("tests/fixtures/posts", "tests/fixtures/reposts")
                   for f in os.listdir(os.path.join(ROOT, d)))
FORUM_LINES = [
    "Vente base patients CHU de Nantes, 480 000 lignes, NIR et téléphones. Prix 8000 USD BTC, contact tox.",
    "Accès VPN Cerballiance à vendre, comptes admin, escrow accepté.",
    "Discussion du jour, rien à signaler sur le forum.",
]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("nothing listens on 127.0.0.1:%d" % port)


class Receiver:
    """The flaky webhook receiver; `log` holds one dict per POST."""

    def __init__(self, seed, log_path):
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.log = []
        self.file = open(log_path, "a", buffering=1)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                key = self.headers.get("Idempotency-Key", "")
                parts = dict(p.split("=", 1) for p in self.headers.get("Vigie-Signature", "").split(",") if "=" in p)
                try:
                    t = int(parts.get("t", ""))
                    mac = hmac.new(SECRET.encode(), b"%d." % t + body, hashlib.sha256).hexdigest()
                    valid = hmac.compare_digest(mac, parts.get("v1", ""))
                except ValueError:
                    valid = False
                with receiver.lock:
                    r = receiver.rng.random()
                    delay = receiver.rng.uniform(0.5, 3.5)
                if not valid:
                    outcome, status, delay = "bad-signature", 401, 0
                elif r < 0.20:
                    outcome, status, delay = "500", 500, 0
                elif r < 0.30:
                    outcome, status = "slow-500", 500
                elif r < 0.40:
                    outcome, status, delay = "dropped", None, 0
                elif r < 0.50:
                    outcome, status = "slow-200", 200
                else:
                    outcome, status, delay = "200", 200, 0
                time.sleep(delay)
                answered = False
                if status is not None:
                    try:
                        self.send_response(status)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        self.wfile.flush()
                        answered = True
                    except OSError:
                        pass
                else:
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                entry = {"key": key, "outcome": outcome, "status": status, "answered": answered,
                         "at": round(time.time(), 3)}
                with receiver.lock:
                    receiver.log.append(entry)
                    receiver.file.write(json.dumps(entry) + "\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigie", required=True, help="the vigie binary")
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", help="working directory (default: a new temporary one, removed unless it fails)")
    ap.add_argument("--final-timeout", type=float, default=180.0, help="seconds the final run may take")
    a = ap.parse_args()
    started = time.time()
    rng = random.Random(a.seed)
    work = a.work or tempfile.mkdtemp(prefix="vigie-chaos-")
    os.makedirs(work, exist_ok=True)
    store, spool, site_root = (os.path.join(work, d) for d in ("store", "spool", "site"))
    os.makedirs(spool, exist_ok=True)
    say = lambda *x: print(*x, file=sys.stderr, flush=True)

    site_py = os.path.join(ROOT, "ops/lab/site.py")
    subprocess.run([sys.executable, site_py, "--root", site_root, "--init"], check=True)
    cookie = open(os.path.join(site_root, "cookie")).read().strip()
    forum_port = free_port()
    forum = subprocess.Popen([sys.executable, site_py, "--root", site_root, "--port", str(forum_port),
                              "--kind", "forum"], stderr=subprocess.DEVNULL)
    receiver = Receiver(a.seed, os.path.join(work, "receiver.log"))
    wait_port(forum_port)

    config = os.path.join(work, "vigie.toml")
    with open(config, "w") as f:
        f.write(f"""[store]
path = "{store}"

[run]
spool = "{spool}"
spool_source = "chaos-spool"
poll_ms = 100

[delivery]
timeout_secs = 2
backoff_secs = 1
max_backoff_secs = 2
max_attempts = 1000
workers = 2

[tor]
mode = "loopback"
connect_timeout_secs = 3
fetch_timeout_secs = 4
attempts = 2
backoff_ms = 100

[[tor_source]]
id = "chaos-forum"
kind = "forum"
engine = "phpbb"
mirrors = ["http://127.0.0.1:{forum_port}/"]
start = "/index.php"
max_pages = 400
interval_secs = 1
jitter = 0.0
cookie_env = "CHAOS_COOKIE"

[[recipient]]
id = "cert-sante"
url = "http://127.0.0.1:{receiver.port}/vigie"
secret_env = "CHAOS_SECRET"
catch_all = true
min_severity = "low"

[[recipient]]
id = "cert-astreinte"
url = "http://127.0.0.1:{receiver.port}/astreinte"
secret_env = "CHAOS_SECRET"
catch_all = true
min_severity = "medium"
""")
    env = dict(os.environ, CHAOS_SECRET=SECRET, CHAOS_COOKIE="phpbb3_lab_sid=" + cookie,
               RUST_LOG=os.environ.get("RUST_LOG", "info"))
    run_log = open(os.path.join(work, "vigie-run.log"), "ab")
    templates = [open(os.path.join(ROOT, t), "rb").read() for t in TEMPLATES]
    posted = {"spool": 0, "forum": 0}

    def drop_spool():
        n = posted["spool"]
        body = templates[rng.randrange(len(templates))] + ("\nRéf. annonce chaos-%d-%d\n" % (a.seed, n)).encode()
        name = "post-%05d.txt" % n
        with open(os.path.join(spool, "." + name), "wb") as f:
            f.write(body)
        os.rename(os.path.join(spool, "." + name), os.path.join(spool, name))
        posted["spool"] += 1

    def add_forum_post():
        n = posted["forum"]
        text = "%s Réf. chaos-%d-%d" % (FORUM_LINES[rng.randrange(len(FORUM_LINES))], a.seed, n)
        subprocess.run([sys.executable, site_py, "--root", site_root, "--add-post", "4", text],
                       check=True, stdout=subprocess.DEVNULL)
        posted["forum"] += 1

    def vigie(*args, check=False):
        return subprocess.run([a.vigie, "--config", config, *args], env=env, capture_output=True, text=True,
                              check=check, timeout=120)

    def start_run():
        return subprocess.Popen([a.vigie, "--config", config, "run"], env=env, stdout=subprocess.DEVNULL,
                                stderr=run_log)

    died = []
    kill_moments = []
    for i in range(a.kills):
        for _ in range(rng.randint(0, 3)):
            drop_spool()
        if rng.random() < 0.5:
            add_forum_post()
        proc = start_run()
        moment = rng.uniform(0.2, 3.0)
        # Some posts arrive while it runs.
        first = rng.uniform(0.0, moment)
        time.sleep(first)
        if rng.random() < 0.6:
            drop_spool()
        time.sleep(moment - first)
        if proc.poll() is not None:
            died.append({"cycle": i, "code": proc.returncode})
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kill_moments.append(round(moment, 3))
        say("kill %d/%d at %.2f s (%d spool + %d forum posts so far)" % (i + 1, a.kills, moment, posted["spool"], posted["forum"]))

    # The final run: lets the spool, the forum and the outbox drain, then a clean stop.
    forum_posts = sum(len(t["posts"]) for t in json.load(open(os.path.join(site_root, "forum.json")))["threads"])
    expected = posted["spool"] + forum_posts
    proc = start_run()
    deadline = time.time() + a.final_timeout
    settled = False
    while time.time() < deadline:
        time.sleep(0.5)
        if proc.poll() is not None:
            died.append({"cycle": "final", "code": proc.returncode})
            break
        left = [n for n in os.listdir(spool) if not n.startswith(".")]
        verify = vigie("evidence", "verify", "--json")
        try:
            snapshots = json.loads(verify.stdout)["snapshots"]
        except (ValueError, KeyError):
            continue
        pending = vigie("alerts", "outbox", "--json").stdout.strip()
        if not left and snapshots >= expected and not pending:
            settled = True
            break
    proc.send_signal(signal.SIGTERM)
    try:
        clean_exit = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        clean_exit = "hung"
    forum.terminate()
    forum.wait()

    # The invariants.
    problems = []
    verify = vigie("evidence", "verify", "--json")
    if verify.returncode != 0:
        problems.append("evidence verify failed: %s %s" % (verify.stdout, verify.stderr))
    evidence = json.loads(verify.stdout or "{}")
    if evidence.get("snapshots") != expected:
        problems.append("snapshots %s != posts %d (spool %d + forum %d)" % (
            evidence.get("snapshots"), expected, posted["spool"], forum_posts))
    left = [n for n in os.listdir(spool) if not n.startswith(".")]
    rejected_dir = os.path.join(spool, ".rejected")
    rejected = os.listdir(rejected_dir) if os.path.isdir(rejected_dir) else []
    if left or rejected:
        problems.append("spool not drained: %d left, %d rejected" % (len(left), len(rejected)))
    alerts = [json.loads(l) for l in vigie("alerts", "list", "--json", "--limit", "1000000").stdout.splitlines() if l]
    undelivered = [x["alert"] for x in alerts if (x.get("delivery") or {}).get("state") != "delivered"]
    if undelivered:
        problems.append("alerts not delivered: %s" % undelivered[:20])
    accepted = {}
    posts_per_key = {}
    for e in receiver.log:
        posts_per_key[e["key"]] = posts_per_key.get(e["key"], 0) + 1
        if e["status"] == 200:
            accepted[e["key"]] = accepted.get(e["key"], 0) + 1
    keys = {"vigie-alert-%d" % x["alert"] for x in alerts}
    lost = sorted(k for k in keys if k not in accepted)
    if lost:
        problems.append("alerts never accepted by the receiver: %s" % lost[:20])
    strangers = sorted(k for k in accepted if k not in keys)
    if strangers:
        problems.append("the receiver accepted keys the store does not know: %s" % strangers[:20])
    incidents = [json.loads(l) for l in vigie("incidents", "list", "--json").stdout.splitlines() if l]
    alerted = {x["incident"] for x in alerts}
    silent = [i["id"] for i in incidents if i.get("severity") in ("low", "medium", "high", "critical") and i["id"] not in alerted]
    if silent:
        problems.append("incidents at or above low without an alert: %s" % silent[:20])
    if died:
        problems.append("vigie run exited by itself: %s" % died)
    if clean_exit != 0:
        problems.append("the final run did not stop cleanly: %s" % clean_exit)
    if not settled:
        problems.append("the final run did not settle within %.0f s" % a.final_timeout)

    dup_accepted = {k: n for k, n in accepted.items() if n > 1}
    outcomes = {}
    for e in receiver.log:
        outcomes[e["outcome"]] = outcomes.get(e["outcome"], 0) + 1
    summary = {
        "seed": a.seed,
        "kills": a.kills,
        "posts": {"spool": posted["spool"], "forum_added": posted["forum"], "forum_total": forum_posts},
        "snapshots": evidence.get("snapshots"),
        "sightings": evidence.get("sightings"),
        "incidents": len(incidents),
        "alerts": len(alerts),
        "lost_alerts": len(lost),
        "receiver_posts": len(receiver.log),
        "receiver_outcomes": outcomes,
        "keys_accepted_more_than_once": len(dup_accepted),
        "max_accepted_per_key": max(accepted.values(), default=0),
        "duplicate_accepted_posts": sum(n - 1 for n in dup_accepted.values()),
        "max_posts_per_key": max(posts_per_key.values(), default=0),
        "seconds": round(time.time() - started, 1),
        "problems": problems,
        "ok": not problems,
    }
    print(json.dumps(summary))
    say("chaos: %s; %d kills, %d posts, %d snapshots, %d alerts, %d lost, %d duplicate accepted POSTs (%d keys), %.0f s" % (
        "OK" if not problems else "FAILED", a.kills, expected, evidence.get("snapshots") or 0, len(alerts), len(lost),
        summary["duplicate_accepted_posts"], len(dup_accepted), summary["seconds"]))
    for p in problems:
        say("  problem: " + p)
    if not problems and not a.work:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    elif problems:
        say("  kept: " + work)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
