#!/usr/bin/env python3
"""Generates the scan benchmark's inputs, deterministically (seeded).

Writes into OUT_DIR:
  corpus.txt      forum-like French/English text, SIZE_MB megabytes, with a few watched names
                  per 100 KB (some upper-case with accented capitals, some obfuscated), plus
                  decoy numbers, e-mails and the odd sample line;
  generated.toml  5,000 generated organisation names, as a watchlist (added to the shipped one);
  names.txt       every literal the peers search for: shipped names, aliases and domains, and
                  the generated names (one per line), so that every tool looks for the same set.
Usage: gen_corpus.py OUT_DIR [SIZE_MB]
"""
import os
import random
import sys
import tomllib

out_dir = sys.argv[1]
size_mb = int(sys.argv[2]) if len(sys.argv) > 2 else 200
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
rng = random.Random(20261123)
os.makedirs(out_dir, exist_ok=True)

shipped = []
wl_dir = os.path.join(root, "watchlists")
for f in sorted(os.listdir(wl_dir)):
    if f.endswith(".toml"):
        with open(os.path.join(wl_dir, f), "rb") as fh:
            shipped += tomllib.load(fh).get("entity", [])

syll = ["val", "mor", "ber", "tig", "nac", "lau", "ren", "cour", "mont", "fleur", "bois", "riv",
        "sab", "lon", "gra", "vel", "dor", "mar", "quin", "sel", "tar", "vic", "zen", "pol", "cas",
        "nor", "bel", "lin", "rod", "fal", "gor", "hel", "jus", "kel", "lum", "mir", "nev", "ost"]
kinds = ["Clinique", "Laboratoires", "Groupe Hospitalier", "Centre Médical", "Pharmacie",
         "Biologie", "Santé", "Médical Systems", "Polyclinique", "Institut"]
generated = set()
while len(generated) < 5000:
    word = "".join(rng.choice(syll) for _ in range(rng.randint(2, 3))).capitalize()
    generated.add(f"{rng.choice(kinds)} {word}")
generated = sorted(generated)
with open(os.path.join(out_dir, "generated.toml"), "w") as fh:
    fh.write("# 5,000 generated organisations for the scan benchmark.\n")
    for i, name in enumerate(generated):
        slug = name.lower().replace(" ", "-").replace("é", "e")
        fh.write(f'[[entity]]\nid = "gen-{i}"\nname = "{name}"\ncategory = "other"\n'
                 f'domains = ["{slug}.example"]\n\n')

literals = set(generated)
for e in shipped:
    literals.add(e["name"])
    literals.update(e.get("aliases", []))
    literals.update(e.get("strict_aliases", []))
    literals.update(e.get("domains", []))
with open(os.path.join(out_dir, "names.txt"), "w") as fh:
    fh.write("\n".join(sorted(literals)) + "\n")

words_fr = ("le la les des une un pour avec dans sur mais donc car base données fichier accès "
            "patients hôpital clinique forum sujet réponse merci salut bonjour voici nouveau vieux "
            "prix contact envoyer lien télécharger serveur compte mot de passe semaine mois année "
            "très bien rien tout comme aussi encore déjà toujours jamais ici là-bas").split()
words_en = ("the a of to and in is it for on with as this that have from by not but what all "
            "were when we there can an your which their said if do will each about how up out them "
            "then she many some so these would other into has more her two like him see time could "
            "no make than first been its who now people my made over did down only way find use may "
            "thread reply post forum user joined likes quote selling buying vouch escrow").split()
watched = [e["name"] for e in shipped] + generated[:200]


def watched_mention():
    name = rng.choice(watched)
    r = rng.random()
    if r < 0.25:
        return name.upper()  # accented capitals: MÉDECINDIRECT, CHU DE NÎMES
    if r < 0.35:
        return " ".join(name)  # spaced letters
    if r < 0.45:
        return name.replace("a", "4").replace("e", "3")
    return name


def sentence():
    words = words_fr if rng.random() < 0.5 else words_en
    n = rng.randint(6, 18)
    s = " ".join(rng.choice(words) for _ in range(n))
    r = rng.random()
    if r < 0.05:
        s += f" {rng.randint(10**14, 10**15 - 1)}"  # decoy 15-digit number
    elif r < 0.08:
        s += f" 0{rng.randint(6, 7)}{rng.randint(10**7, 10**8 - 1)}"
    elif r < 0.10:
        s += f" {rng.choice(['jean', 'marie', 'admin'])}@{rng.choice(['gmail.com', 'chu-lyon.fr', 'outlook.fr'])}"
    elif r < 0.12:
        s += f" prix {rng.randint(50, 5000)}$"
    return s.capitalize() + rng.choice([".", ".", "!", " ?", "..."])


target = size_mb * 1_000_000
written = 0
next_mention = rng.randint(20_000, 40_000)
with open(os.path.join(out_dir, "corpus.txt"), "w", encoding="utf-8") as fh:
    buf = []
    buf_len = 0
    while written < target:
        line = " ".join(sentence() for _ in range(rng.randint(1, 4)))
        if written + buf_len >= next_mention:
            line += " " + watched_mention() + " " + sentence()
            next_mention += rng.randint(20_000, 40_000)  # a few per 100 KB
        line += "\n"
        buf.append(line)
        buf_len += len(line.encode())
        if buf_len > 1 << 20:
            fh.write("".join(buf))
            written += buf_len
            buf, buf_len = [], 0
    fh.write("".join(buf))
print(f"corpus: {written + buf_len} bytes; {len(literals)} literals; {len(generated)} generated names")
