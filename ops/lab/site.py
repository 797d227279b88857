#!/usr/bin/env python3
"""The lab's simulated onion sites: a phpBB-style leak forum and a ransomware leak site.

Content lives in ROOT (forum.json, leak.json, layout, cookie) and is re-read on every request,
so tests and benchmarks change the sites while they run:
  site.py --root R --init [--bulk N]      write the initial content (N filler threads)
  site.py --root R --port P --kind forum  serve the forum (one process per mirror)
  site.py --root R --port P --kind leak   serve the leak site
  site.py --root R --add-post T TEXT      append a post to thread T (prints the post id)
  site.py --root R --layout v2            switch the forum to a changed HTML layout
Binds 127.0.0.1 only.
"""
import argparse
import hashlib
import base64
import html
import json
import os
import random
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

PER_PAGE = 5
THREADS_PER_LISTING = 5


def nir(rng):
    """A valid French NIR with its key (sex, year, month, department, commune, order)."""
    body = "%d%02d%02d%02d%03d%03d" % (
        rng.choice([1, 2]), rng.randint(40, 99), rng.randint(1, 12),
        rng.choice([13, 31, 33, 44, 59, 69, 75, 92, 93]), rng.randint(1, 400), rng.randint(1, 900))
    key = 97 - int(body) % 97
    return "%s %s %s %s %s %s %02d" % (body[0], body[1:3], body[3:5], body[5:7], body[7:10], body[10:13], key)


def onion_of(seed):
    key = hashlib.sha256(seed.encode()).digest()
    check = hashlib.sha3_256(b".onion checksum" + key + b"\x03").digest()[:2]
    return base64.b32encode(key + check + b"\x03").decode().lower() + ".onion"


def patient_rows(rng, n):
    first = ["Marie", "Jean", "Nathalie", "Pierre", "Sophie", "Karim", "Isabelle", "Luc"]
    last = ["Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Girard", "Roux", "Fournier"]
    rows = ["nom;prenom;date_naissance;nir;telephone;service"]
    for _ in range(n):
        rows.append("%s;%s;%02d/%02d/19%02d;%s;06%08d;cardiologie" % (
            rng.choice(last).upper(), rng.choice(first), rng.randint(1, 28), rng.randint(1, 12),
            rng.randint(40, 99), nir(rng).replace(" ", ""), rng.randint(0, 99999999)))
    return "\n".join(rows)


def initial_forum(rng):
    t = []

    def thread(title, posts, private=False):
        t.append({"id": len(t) + 1, "title": title, "private": private, "posts": posts})

    def post(author, body, day):
        return {"author": author, "date": "2026-11-%02dT%02d:%02d:00+00:00" % (day, rng.randint(0, 23), rng.randint(0, 59)), "body": body}

    thread("[FR] Base patients CHU de Nantes - 2023/2024", [
        post("medbroker", "Vente base patients du CHU de Nantes, export du DPI, 1.2M lignes. "
             "Echantillon ci-dessous, prix 4000$ en XMR, contact tox ou session.\n" + patient_rows(rng, 6), 14),
        post("buyer42", "legit ? deja vu sur un autre forum", 14),
        post("medbroker", "100% frais, accès VPN inclus. Escrow accepté.", 15),
    ])
    thread("Weda - accès admin + dump praticiens", [
        post("xk_dealer", "Selling admin access to Weda practice software backend, 3 400 practitioners, RPPS "
             "and patient notes. Sample: RPPS 10003456789 | Dr. Leroy | Lyon. Price 2.5k USD, escrow ok.", 16),
        post("noname", "bump", 17),
    ])
    thread("Продам базу лаборатории Cerballiance", [
        post("ru_seller", "Продаю базу пациентов Cerballiance (Dedalus), 500к строк, анализы и номера страховки. "
             "Цена 3000$, пишите в телеграм.\n" + patient_rows(rng, 4), 18),
    ])
    thread("Général - discussion", [post("user%d" % i, "Quelqu'un a des nouvelles du forum ? Le miroir "
                                         "%s marche mieux." % onion_of("mirror-news") if i == 2 else
                                         "Message de discussion générale numéro %d, rien à voir." % i, 10 + i % 5)
                                    for i in range(1, 13)])
    thread("VIP - fuites pharmacies (membres)", [
        post("pharma_leaks", "Pour les membres: identifiants LGO de 40 pharmacies (LGPI, Winpharma), "
             "comptes pharmacien.durand@pharmacie-centrale.fr:Lgpi2024! et 39 autres. 800$.", 19),
    ], private=True)
    thread("Car for sale - Renault Clio", [post("seller9", "Selling my car, 2015 Clio, 90k km, 5000 EUR.", 12)])
    thread("Hôpital Villefranche - documents RH", [
        post("ghost", "Fichiers RH de l'hôpital de Villefranche-sur-Saône, 12 Go, gratuit pour les membres actifs. "
             "Lien de téléchargement en MP.", 20),
    ])
    return {"threads": t}


def initial_leak(rng):
    return {"victims": [
        {"name": "Clinique du Parc (groupe Ramsay Santé)", "date": "2026-11-12", "size": "320 GB",
         "desc": "Dossiers patients, imagerie, comptabilité. Publication dans 5 jours si pas de contact."},
        {"name": "Biogroup - laboratoire régional", "date": "2026-11-15", "size": "1.1 TB",
         "desc": "Patient results, HR data, backups. Timer: 7 days."},
        {"name": "Acme Logistics", "date": "2026-11-16", "size": "80 GB", "desc": "Invoices and contracts."},
    ]}


def load(root, name):
    with open(os.path.join(root, name), encoding="utf-8") as f:
        return json.load(f)


def save(root, name, data):
    tmp = os.path.join(root, "." + name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
    os.replace(tmp, os.path.join(root, name))


def read_text(root, name, default=""):
    try:
        with open(os.path.join(root, name), encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return default


def page(title, body):
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%s</title>"
            "<script>var tracker=1;</script><style>body{font-family:sans-serif}</style></head>"
            "<body><div id=\"wrap\">%s</div></body></html>" % (html.escape(title), body))


def forum_listing(data, start, v2):
    threads = sorted(data["threads"], key=lambda t: -t["id"])
    chunk = threads[start:start + THREADS_PER_LISTING]
    rows = []
    for t in chunk:
        link = "./viewtopic.php?t=%d" % t["id"]
        if v2:
            rows.append('<div class="thread-row"><a class="thread-title" href="%s">%s</a></div>' % (link, html.escape(t["title"])))
        else:
            rows.append('<li class="row"><dl><dt><a href="%s" class="topictitle">%s</a></dt>'
                        '<dd class="posts">%d</dd></dl></li>' % (link, html.escape(t["title"]), len(t["posts"])))
    nav = ""
    if start + THREADS_PER_LISTING < len(threads):
        nav = '<ul class="pagination"><li class="next"><a rel="next" href="./index.php?start=%d">Suivant</a></li></ul>' % (start + THREADS_PER_LISTING)
    body = ('<h1>MedLeaks Board</h1>' + ('<div class="threads">%s</div>' if v2 else '<ul class="topiclist topics">%s</ul>') % "".join(rows) + nav)
    return page("MedLeaks Board - Index", body)


def forum_thread(data, tid, start, cookie_ok, v2):
    t = next((x for x in data["threads"] if x["id"] == tid), None)
    if t is None:
        return None
    if t["private"] and not cookie_ok:
        return page("Login", '<form class="login"><p>Vous devez être connecté pour voir ce sujet.</p></form>')
    posts = t["posts"][start:start + PER_PAGE]
    out = ['<h2 class="topic-title"><a href="./viewtopic.php?t=%d">%s</a></h2>' % (tid, html.escape(t["title"]))]
    for i, p in enumerate(posts):
        pid = tid * 1000 + start + i + 1
        body = html.escape(p["body"])
        if "\n" in body:
            head, rest = body.split("\n", 1)
            body = '%s<div class="codebox"><pre><code>%s</code></pre></div>' % (head, rest)
        if v2:
            out.append('<article class="msg" data-id="%d"><span class="who">%s</span><span class="when">%s</span>'
                       '<div class="msg-body">%s</div></article>' % (pid, html.escape(p["author"]), p["date"], body))
        else:
            out.append('<div id="p%d" class="post has-profile bg2"><div class="inner"><div class="postbody">'
                       '<h3 class="first"><a href="#p%d">Re: %s</a></h3>'
                       '<p class="author"><time datetime="%s">%s</time> par <strong><a class="username" href="./memberlist.php?u=%s">%s</a></strong></p>'
                       '<div class="content">%s</div></div></div></div>'
                       % (pid, pid, html.escape(t["title"]), p["date"], p["date"][:10], html.escape(p["author"]), html.escape(p["author"]), body))
    if start + PER_PAGE < len(t["posts"]):
        out.append('<ul class="pagination"><li class="next"><a rel="next" href="./viewtopic.php?t=%d&amp;start=%d">Suivant</a></li></ul>' % (tid, start + PER_PAGE))
    return page("%s - MedLeaks Board" % t["title"], "".join(out))


def leak_page(data):
    cards = []
    for v in data["victims"]:
        cards.append('<div class="victim-card"><h3 class="victim-name">%s</h3><span class="victim-date">%s</span>'
                     '<span class="victim-size">%s</span><p class="victim-desc">%s</p></div>'
                     % tuple(html.escape(x) for x in (v["name"], v["date"], v["size"], v["desc"])))
    return page("LockDown ransomware - leaks", "<h1>LockDown - our victims</h1>" + "".join(cards))


def make_handler(root, kind):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def send(self, code, body, ctype="text/html; charset=utf-8", extra=None):
            data = body.encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            u = urlparse(self.path)
            q = parse_qs(u.query)
            start = int(q.get("start", ["0"])[0] or 0)
            if kind == "leak":
                return self.send(200, leak_page(load(root, "leak.json")))
            v2 = read_text(root, "layout", "v1") == "v2"
            data = load(root, "forum.json")
            if u.path in ("/", "/index.php"):
                return self.send(200, forum_listing(data, start, v2), extra={"Set-Cookie": "phpbb3_lab_u=1; path=/"})
            if u.path == "/viewtopic.php":
                secret = read_text(root, "cookie")
                cookie_ok = ("phpbb3_lab_sid=%s" % secret) in (self.headers.get("Cookie") or "")
                body = forum_thread(data, int(q.get("t", ["0"])[0] or 0), start, cookie_ok, v2)
                if body is None:
                    return self.send(404, page("Not found", "<p>Sujet introuvable</p>"))
                return self.send(200, body)
            return self.send(404, page("Not found", "<p>404</p>"))

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port", type=int)
    ap.add_argument("--kind", choices=["forum", "leak"])
    ap.add_argument("--init", action="store_true")
    ap.add_argument("--seed", type=int, default=47)
    ap.add_argument("--bulk", type=int, default=0, help="with --init: N extra 12-post threads (benchmarks)")
    ap.add_argument("--add-post", nargs=2, metavar=("THREAD", "TEXT"))
    ap.add_argument("--layout", choices=["v1", "v2"])
    a = ap.parse_args()
    if a.init:
        os.makedirs(a.root, exist_ok=True)
        rng = random.Random(a.seed)
        forum = initial_forum(rng)
        for i in range(a.bulk):
            forum["threads"].append({"id": len(forum["threads"]) + 1, "title": "Discussion %d" % (i + 1), "private": False,
                                     "posts": [{"author": "user%d" % j, "date": "2026-11-%02dT10:%02d:00+00:00" % (1 + j, j),
                                                "body": "Message %d du fil %d : échanges sans rapport, rien à signaler." % (j, i)}
                                               for j in range(12)]})
        save(a.root, "forum.json", forum)
        save(a.root, "leak.json", initial_leak(rng))
        with open(os.path.join(a.root, "cookie"), "w") as f:
            f.write("%032x" % random.SystemRandom().getrandbits(128))
        with open(os.path.join(a.root, "layout"), "w") as f:
            f.write("v1")
        return
    if a.add_post:
        data = load(a.root, "forum.json")
        tid = int(a.add_post[0])
        t = next(x for x in data["threads"] if x["id"] == tid)
        t["posts"].append({"author": "newseller", "date": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()), "body": a.add_post[1]})
        save(a.root, "forum.json", data)
        print("p%d" % (tid * 1000 + len(t["posts"])))
        return
    if a.layout:
        with open(os.path.join(a.root, "layout"), "w") as f:
            f.write(a.layout)
        return
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(a.root, a.kind))
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
