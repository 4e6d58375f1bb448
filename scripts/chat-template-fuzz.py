#!/usr/bin/env python3
"""Differential check of qwen2j's template engine against Python's Jinja2 on random templates that mix text,
spaces, newlines and tags with every whitespace-control marker (-, +), comments and raw blocks: renders them
with `./qwen2j template --batch` and with Jinja2 as transformers configures it (chat-template-fixtures.py),
and prints the first differences. Usage: python3 scripts/chat-template-fuzz.py [COUNT] [SEED]
"""
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("fixtures", os.path.join(HERE, "chat-template-fixtures.py"))
fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixtures)

SPACES = ["", " ", "  ", "\n", " \n", "\n  ", "\t", "\n\n", "x", "a b", " \n \n "]


def marker(allow_plus=True):
    return random.choice(["", "-", "+", ""] if allow_plus else ["", "-", ""])


def tag(depth):
    k = random.random()
    if k < 0.3:
        return ("{%" + marker() + " if true " + marker() + "%}" + text(depth + 1) + "{%" + marker() + " endif "
                + marker() + "%}")
    if k < 0.5:
        return "{{" + marker(False) + " 'v' " + marker(False) + "}}"
    if k < 0.65:
        return "{#" + marker() + " c " + marker() + "#}"
    if k < 0.8:
        return ("{%" + marker() + " for i in [1, 2] " + marker() + "%}" + text(depth + 1) + "{%" + marker()
                + " endfor " + marker() + "%}")
    if k < 0.9:
        return "{%" + marker() + " set x = 1 " + marker() + "%}"
    return ("{%" + marker() + " raw " + marker(False) + "%}" + random.choice(SPACES) + "{{ r }}"
            + random.choice(SPACES) + "{%" + marker(False) + " endraw " + marker() + "%}")


def text(depth=0):
    parts = random.randint(1, 2 if depth else 5)
    return "".join(random.choice(SPACES) + (tag(depth) if depth < 3 and random.random() < 0.6 else "")
                   for _ in range(parts))


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
    templates = [text() + random.choice(["", "\n", " \n"]) for _ in range(count)]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        f.write("\n".join(json.dumps({"template": t}) for t in templates) + "\n")
    run = subprocess.run([os.path.join(HERE, "..", "qwen2j"), "template", "--batch", f.name],
                         capture_output=True, text=True)
    os.unlink(f.name)
    got = [json.loads(line) for line in run.stdout.splitlines()]
    if len(got) != len(templates):
        print(run.stderr)
        return 1
    differences = 0
    for template, mine in zip(templates, got):
        expected = fixtures.render_variables(template, {})
        same = ("error" in expected) == ("error" in mine) and expected.get("output") == mine.get("output")
        if not same:
            differences += 1
            if differences <= 5:
                print(f"{template!r}\n  Jinja2: {expected}\n  qwen2j: {mine}")
    print(f"{count} templates, {differences} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
