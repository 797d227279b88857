#!/usr/bin/env python3
"""Generates a Telegram Desktop export (result.json) of COUNT channel messages for the import
benchmark, deterministically: forum-like chatter in French, English and Russian, 10% sale
teasers naming shipped watchlist organisations with sample rows, text as plain strings or as
entity arrays, some service messages, forwards and replies. Also writes each message's text as
a file under OUT_DIR/files-as-posts/ (the `vigie ingest` baseline).
Usage: gen_telegram_export.py OUT_DIR [COUNT]
"""
import json, os, random, sys, tomllib

out, count = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
rng = random.Random(20261123)
names = []
for f in sorted(os.listdir(os.path.join(root, "watchlists"))):
    if f.endswith(".toml"):
        with open(os.path.join(root, "watchlists", f), "rb") as fh:
            names += [e["name"] for e in tomllib.load(fh).get("entity", []) if not e.get("strict")]
# Chatter: no offer vocabulary (prices, "dump", "selling"...), as in ordinary channel talk.
words = ("salut merci question serveur réseau config version semaine demain équipe projet "
         "thanks anyone server proxy setup guide update review link reply "
         "спасибо форум сервер вопрос ответ сообщение").split()

def nir():
    body = f"{rng.choice([1, 2])}{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}{rng.choice([13, 33, 44, 69, 75]):02d}{rng.randint(100, 990):03d}{rng.randint(1, 999):03d}"
    return body + f"{97 - int(body) % 97:02d}"

messages = []
os.makedirs(os.path.join(out, "files-as-posts"), exist_ok=True)
for i in range(1, count + 1):
    if rng.random() < 0.02:
        messages.append({"id": i, "type": "service", "date_unixtime": str(1_790_000_000 + i * 30), "action": "pin_message", "text": ""})
        continue
    if rng.random() < 0.1:
        org = rng.choice(names)
        rows = "\n".join(f"N{j};P{j};{nir()};06{rng.randint(10**7, 10**8 - 1)}" for j in range(rng.randint(3, 8)))
        text = [f"VENTE base patients {org} — ", {"type": "bold", "text": f"{rng.randint(10, 900)} 000 dossiers"},
                f"\nnom;prenom;nir;tel\n{rows}\nPrix {rng.randint(500, 9000)} USD BTC, contact ", {"type": "mention", "text": f"@seller{i}"}]
    else:
        text = " ".join(rng.choice(words) for _ in range(rng.randint(8, 60)))
    m = {"id": i, "type": "message", "date_unixtime": str(1_790_000_000 + i * 30), "from": "channel", "text": text}
    if rng.random() < 0.05:
        m["forwarded_from"] = f"chan_{rng.randint(1, 50)}"
    if rng.random() < 0.1:
        m["reply_to_message_id"] = rng.randint(1, i)
    messages.append(m)
    flat = text if isinstance(text, str) else "".join(p if isinstance(p, str) else p["text"] for p in text)
    with open(os.path.join(out, "files-as-posts", f"{i:06d}.txt"), "w") as f:
        f.write(flat)
with open(os.path.join(out, "result.json"), "w") as f:
    json.dump({"name": "bench channel", "type": "public_channel", "id": 777, "messages": messages}, f, ensure_ascii=False)
