#!/usr/bin/env python3
"""Generates the ingest benchmark's inputs, deterministically (seeded).

Writes COUNT forum posts of about 2 KB as files under OUT_DIR/posts/ (1,000 per directory):
  60% distinct posts: forum chatter (FR/EN/RU), data-sale threads naming shipped watchlist
      organisations, some with sample rows of valid-looking NIRs and phones;
  30% exact duplicates of an earlier post (the same page fetched again, or mirrored);
  10% near-duplicates of an earlier post (price, seller handle and contact edited).
Usage: gen_posts.py OUT_DIR [COUNT]
"""
import os
import random
import sys
import tomllib

out_dir = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
rng = random.Random(20261123)

names = []
wl_dir = os.path.join(root, "watchlists")
for f in sorted(os.listdir(wl_dir)):
    if f.endswith(".toml"):
        with open(os.path.join(wl_dir, f), "rb") as fh:
            names += [e["name"] for e in tomllib.load(fh).get("entity", []) if not e.get("strict")]

words_fr = ("le la les un une des de du et en pour avec sur dans pas plus mais comme tout bien "
            "faire voir forum message réponse merci salut question problème serveur version "
            "config réseau accès compte mot passe client projet équipe semaine demain hier "
            "toujours jamais vraiment peut-être besoin aide tuto guide lien fichier").split()
words_en = ("the a of and to in is for on with this that it you we they have has was were will "
            "thread post reply thanks anyone know how what where server proxy setup guide link "
            "file update price market vendor review trusted escrow ship order").split()
words_ru = ("и в не на что с как это по но из у за от же так все она вы мы они если "
            "форум сообщение ответ спасибо сервер доступ база продам куплю цена гарант").split()


def nir():
    base = f"{rng.choice([1, 2])}{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 95):02d}{rng.randint(1, 990):03d}{rng.randint(1, 999):03d}"
    return base + f"{97 - int(base) % 97:02d}"


def chatter(lang):
    words = {"fr": words_fr, "en": words_en, "ru": words_ru}[lang]
    out = []
    while sum(len(w) + 1 for w in out) < rng.randint(1700, 2300):
        out.append(rng.choice(words))
        if rng.random() < 0.08:
            out[-1] += "."
    return " ".join(out)


def sale():
    org = rng.choice(names)
    rows = "\n".join(
        f"{rng.choice(['DUPONT', 'MARTIN', 'PETIT', 'DURAND'])};{rng.choice(['Marie', 'Jean', 'Luc'])};{nir()};06{rng.randint(10000000, 99999999)}"
        for _ in range(rng.randint(0, 8)))
    text = (f"[VENTE] Base {org} — {rng.randint(10, 900)}k lignes\n"
            f"Extraction complète de la base patients de {org}, données fraîches, jamais publiées. "
            f"Champs: nom, prénom, NIR, téléphone, mutuelle, adresse.\n"
            f"nom;prenom;nir;telephone\n{rows}\n"
            f"Prix: {rng.randint(1, 20) * 500} USD, escrow accepté. Contact @seller{rng.randint(1, 9999)}\n")
    return text + chatter("fr")[: max(0, 2000 - len(text))]


def near_duplicate(text):
    lines = text.split("\n")
    edited = []
    for line in lines:
        if line.startswith("Prix:"):
            line = f"Prix: {rng.randint(1, 20) * 450} USD (négociable), escrow accepté. Contact @seller{rng.randint(1, 9999)}_new"
        edited.append(line)
    out = "\n".join(edited)
    if out == text:
        out = "UP " + text.replace(" merci", " thx", 1) + f" (edit {rng.randint(1, 99)})"
    return out


distinct = []
posts_dir = os.path.join(out_dir, "posts")
for i in range(count):
    r = rng.random()
    if distinct and r < 0.30:
        text = rng.choice(distinct)
    elif distinct and r < 0.40:
        text = near_duplicate(rng.choice(distinct))
    else:
        text = sale() if rng.random() < 0.3 else chatter(rng.choice(["fr", "fr", "en", "ru"]))
        distinct.append(text)
    sub = os.path.join(posts_dir, f"{i // 1000:03d}")
    if i % 1000 == 0:
        os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, f"{i:06d}.txt"), "w") as f:
        f.write(text)
print(f"{count} posts in {posts_dir}")
