#!/usr/bin/env python3
"""Writes the expected renderings of qwen2j's chat-template corpus with Python's Jinja2 (3.1), configured
exactly as Hugging Face transformers' apply_chat_template configures it (transformers/utils/
chat_template_utils.py, _compile_jinja_template and render_jinja_template):

    ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                  extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    filters["tojson"]  = json.dumps(x, ensure_ascii=False, indent=indent, separators=separators,
                                    sort_keys=sort_keys)
    globals["raise_exception"] raises jinja2.exceptions.TemplateError(message)
    globals["strftime_now"]    = datetime.now().strftime(format)
    template.render(messages=..., tools=..., documents=..., add_generation_prompt=..., **special_tokens,
                    **kwargs)

The one deliberate difference: strftime_now reads a fixed clock (FIXED_NOW) so that expectations do not change
from day to day; the Java tests use the same instant.

Fixture files (test resources of core, dev/qwen2j/core/chat/corpus/):
  real-templates.json  {"conversations": [...], "templates": [{"name", "source", "template", "special_tokens",
                        "contexts": [own variable sets]}], ...}: every template x every conversation, plus each
                        template's own contexts rendered as plain variables
  syntax.json          {"cases": [{"name", "source", "template", "context"}]}: each template rendered with its
                        context as the variables
Each rendering is stored as {"output": text} or {"error": message, "error_type": Jinja2's exception class}.

Usage: python3 scripts/chat-template-fixtures.py [--check]   (--check: compare, write nothing, exit 1 on a
difference)
"""
import json
import os
import re
import sys
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

FIXED_NOW = datetime(2025, 7, 10, 12, 0, 0)
HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "core", "src", "test", "resources", "dev", "qwen2j", "core", "chat", "corpus")


class AssistantTracker(jinja2.ext.Extension):
    """transformers' {% generation %} ... {% endgeneration %}: renders its body; the indices it records for
    assistant masks do not change the text."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

    @jinja2.pass_eval_context
    def _generation_support(self, context, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return FIXED_NOW.strftime(format)


def compile_template(source):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(source)


def outcome(render):
    try:
        # an object printed with its memory address would change the fixture on every run
        return {"output": re.sub(r" at 0x[0-9a-f]+>", " at 0x...>", render())}
    except Exception as e:  # every failure Jinja2 reports is one the Java side must report too
        return {"error": str(e), "error_type": type(e).__name__}


def render_conversation(template, special_tokens, conversation):
    def run():
        kwargs = dict(special_tokens)
        kwargs.update(conversation.get("extra") or {})
        return compile_template(template).render(
            messages=conversation["messages"], tools=conversation.get("tools"),
            documents=conversation.get("documents"),
            add_generation_prompt=conversation["add_generation_prompt"], **kwargs)
    return outcome(run)


def render_variables(template, context):
    return outcome(lambda: compile_template(template).render(**context))


def update(path, fill):
    with open(path, encoding="utf-8") as f:
        fixture = json.load(f)
    before = json.dumps(fixture, ensure_ascii=False, sort_keys=True)
    fill(fixture)
    changed = json.dumps(fixture, ensure_ascii=False, sort_keys=True) != before
    return fixture, changed


def fill_real(fixture):
    for t in fixture["templates"]:
        t["expected"] = {c["name"]: render_conversation(t["template"], t.get("special_tokens", {}), c)
                         for c in fixture["conversations"]}
        t["expected_contexts"] = [render_variables(t["template"], ctx) for ctx in t.get("contexts", [])]


def fill_syntax(fixture):
    for case in fixture["cases"]:
        case["expected"] = render_variables(case["template"], case.get("context", {}))


def main():
    check = "--check" in sys.argv
    status = 0
    for name, fill in (("real-templates.json", fill_real), ("syntax.json", fill_syntax)):
        path = os.path.join(CORPUS, name)
        fixture, changed = update(path, fill)
        if check:
            if changed:
                print(f"{path}: stored expectations differ from Jinja2 {jinja2.__version__}")
                status = 1
            continue
        with open(path, "w", encoding="utf-8") as f:
            json.dump(fixture, f, ensure_ascii=False, indent=1)
            f.write("\n")
        print(f"{path}: written with Jinja2 {jinja2.__version__}")
    return status


if __name__ == "__main__":
    sys.exit(main())
