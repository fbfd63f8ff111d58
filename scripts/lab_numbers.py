#!/usr/bin/env python3
"""Rewrites the numbers that the lab guides quote from the committed results.

    scripts/lab_numbers.py [--check] [docs/labs/*.md ...]

Every number in docs/labs/*.md that is followed by a marker comment is recomputed from
results/labs/ and rewritten in the same format (decimals, thousands separators,
exponent, sign). Markers (tests/labs.rs checks them the same way):

    0.052<!-- lab1-cpu/lab.json kaplan.0.alpha_without_e -->
    0.048–0.055<!-- seeds lab1-cpu lab.json kaplan.0.alpha_without_e -->
    +1.4<!-- lab3-cpu/lab.json target.0.rel_error % -->   (a trailing % means ×100)

Run it after regenerating results/labs (`ladder lab run N --out results/labs/labN-cpu`),
then reread the prose around the numbers. With --check it changes nothing and exits 1 if
a number is out of date. Standard library only.
"""
import json
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
RESULTS = os.path.join(ROOT, "results", "labs")
NUMBER = r"[−+-]?[0-9][0-9,]*(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?"
MARKER = re.compile(
    r"(?P<quote>" + NUMBER + r"(?:–" + NUMBER + r")?)<!-- (?P<words>[^>]*?) -->"
)


def lookup(file, path):
    with open(os.path.join(RESULTS, file)) as f:
        value = json.load(f)
    for key in path.split("."):
        value = value[int(key)] if isinstance(value, list) else value[key]
    return float(value)


def seed_dirs(lab):
    pattern = re.compile(re.escape(lab) + r"(-seed[0-9]+)?")
    return sorted(d for d in os.listdir(RESULTS) if pattern.fullmatch(d))


def like(template, value):
    """`value` written as `template` is: same decimals, separators, exponent and sign."""
    t = template.replace("−", "-")
    mantissa, _, exponent = t.partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    sign = "+" if t.startswith("+") else ""
    if exponent:
        text = f"{value:{sign}.{decimals}e}"
        m, _, e = text.partition("e")
        text = f"{m}e{int(e)}"
    else:
        comma = "," if "," in mantissa else ""
        text = f"{value:{sign}{comma}.{decimals}f}"
    return text.replace("-", "−") if template.startswith("−") or text.startswith("-") else text


def rewrite(match):
    words = match["words"].split()
    if not words or not (words[0] == "seeds" or ".json" in words[0]):
        return match[0]
    scale = 100.0 if words[-1] == "%" else 1.0
    words = [w for w in words if w != "%"]
    if words[0] == "seeds":
        _, lab, file, path = words
        values = [scale * lookup(os.path.join(d, file), path) for d in seed_dirs(lab)]
        lo, hi = match["quote"].split("–")
        quote = f"{like(lo, min(values))}–{like(hi, max(values))}"
    else:
        file, path = words
        quote = like(match["quote"], scale * lookup(file, path))
    return f"{quote}<!-- {match['words']} -->"


def main(argv):
    check = "--check" in argv
    docs = [a for a in argv if a != "--check"]
    if not docs:
        folder = os.path.join(ROOT, "docs", "labs")
        docs = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".md"))
    stale = []
    for doc in docs:
        with open(doc) as f:
            text = f.read()
        new = MARKER.sub(rewrite, text)
        if new != text:
            stale.append(doc)
            if not check:
                with open(doc, "w") as f:
                    f.write(new)
    for doc in stale:
        print(("out of date: " if check else "updated: ") + doc)
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
