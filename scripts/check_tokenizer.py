#!/usr/bin/env python3
"""Python's `tokenizers` loads ladder's tokenizer.json and agrees with ladder's tokens.

Usage: check_tokenizer.py CACHE_ENTRY CORPUS_FILE

CACHE_ENTRY is a token-cache directory (tokenizer.json, tokens.bin, meta.json) built
from CORPUS_FILE, a single-document corpus (such as tinyshakespeare.txt): then ladder
encoded exactly the training bytes and the validation bytes, and Python must give the
same ids for both and decode them back to the file's text.
"""
import json
import sys
from array import array
from pathlib import Path

from tokenizers import Tokenizer


def main() -> int:
    entry, corpus = Path(sys.argv[1]), Path(sys.argv[2])
    meta = json.loads((entry / "meta.json").read_text())
    tok = Tokenizer.from_file(str(entry / "tokenizer.json"))
    ids = array({2: "H", 4: "I"}[meta["width"]])
    ids.frombytes((entry / "tokens.bin").read_bytes())
    if sys.byteorder != "little":
        ids.byteswap()
    text = corpus.read_bytes()
    cut = meta["split_byte"]
    parts = [text[:cut].decode(), text[cut:].decode()]
    py = [tok.encode(p, add_special_tokens=False).ids for p in parts]
    n = meta["train_tokens"]
    ok = py[0] == list(ids[:n]) and py[1] == list(ids[n:])
    back = tok.decode(list(ids), skip_special_tokens=False)
    print(
        f"{entry.name}: vocab {tok.get_vocab_size()}, {len(ids)} tokens; "
        f"Python ids {'match' if ok else 'DIFFER from'} ladder's; "
        f"round trip {'exact' if back == text.decode() else 'BROKEN'}"
    )
    return 0 if ok and back == text.decode() else 1


if __name__ == "__main__":
    sys.exit(main())
