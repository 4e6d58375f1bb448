#!/usr/bin/env python3
"""Renders the chat-template parity fixtures with Jinja2 configured exactly as Hugging Face transformers does
(transformers/utils/chat_template_utils.py, _compile_jinja_template + render_jinja_template):

    ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    filters["tojson"] = json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)
    globals["raise_exception"] raises TemplateError;  globals["strftime_now"] = datetime.now().strftime
    template.render(messages=..., tools=..., documents=None, add_generation_prompt=..., **special_tokens, **kwargs)

(transformers' AssistantTracker extension only matters for {% generation %} blocks, which none of these
templates use.) This script is how the "expected" strings of cases marked "expected_by": "jinja2" were
produced: by the Jinja2 reference implementation, never by qwen2j. Usage:

    python3 render_reference.py FIXTURE.json [--write]

Without --write it checks the stored expectations and prints any difference.
"""
import json
import sys
from datetime import datetime

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return datetime.now().strftime(format)


def compile_template(source):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(source)


def render(fixture, case):
    template = compile_template(fixture["chat_template"])
    kwargs = dict(fixture.get("special_tokens", {}))
    kwargs.update(case.get("extra") or {})
    return template.render(messages=case["messages"], tools=case.get("tools"), documents=None,
                           add_generation_prompt=case["add_generation_prompt"], **kwargs)


def main():
    path = sys.argv[1]
    write = "--write" in sys.argv
    with open(path, encoding="utf-8") as f:
        fixture = json.load(f)
    failures = 0
    for case in fixture["cases"]:
        if case.get("expected_by", "jinja2") != "jinja2":
            got = render(fixture, case)
            if got != case["expected"]:
                failures += 1
                print(f"{case['name']}: published expectation differs from Jinja2:\n{got!r}\n{case['expected']!r}")
            continue
        got = render(fixture, case)
        if write:
            case["expected"] = got
            case["expected_by"] = "jinja2"
        elif got != case.get("expected"):
            failures += 1
            print(f"{case['name']}: stored expectation differs from Jinja2:\n{got!r}")
    if write:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(fixture, f, ensure_ascii=False, indent=1)
            f.write("\n")
    print(f"{path}: {len(fixture['cases'])} cases, {failures} differences")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
