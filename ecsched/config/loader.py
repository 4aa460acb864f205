"""Read one config file into plain data, remembering where every value came from.

Formats follow ecschedule: `.jsonnet` is Jsonnet, `.json` is JSON, everything else is YAML. Template
calls (`{{ env ... }}`) are evaluated on the text first (after Jsonnet, as ecschedule does), then
the text is parsed (config/yamlfile.py, config/jsonfile.py). Reading the text is config/source.py.

A template or plugin problem does not stop the load when the rendered text still parses: the file's
other problems are reported in the same run (`ConfigFile.problems`), and validation problems on a
line that holds a template problem are left out as its consequences.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ecsched import yamlio
from ecsched.config import functions, template
from ecsched.config.file import ConfigFile, Locations, Path, Position
from ecsched.config.jsonfile import parse_json
from ecsched.config.source import LoadFailed, LoadOptions, read_text
from ecsched.config.yamlfile import MAX_RULES, parse_yaml, too_many_rules
from ecsched.errors import Problem

__all__ = ["ConfigFile", "LoadFailed", "LoadOptions", "Locations", "Path", "Position", "load_file", "parse_yaml",
           "read_text"]

def load_file(path: str, opts: LoadOptions) -> ConfigFile:
    text = read_text(path, opts)
    ext = os.path.splitext(path)[1].lower()
    source = None
    shown = "<stdin>" if path == "-" else path
    if ext == ".jsonnet":
        from ecsched.config import jsonnet

        source = text
        text, problems, failed = jsonnet.evaluate(path, text, opts)
    else:
        text, problems, failed = _expand_templates(shown, text, ext, opts)
    try:
        if ext in (".json", ".jsonnet"):
            data, locations = parse_json(shown, text, located=source is None)
        else:
            data, locations = parse_yaml(shown, text)
    except LoadFailed as e:
        if not problems:
            raise
        # Most likely the template problems' own consequence: report those, and any other line's.
        raise LoadFailed(problems + [p for p in e.problems if p.line not in failed]) from None
    if not isinstance(data, dict):
        what = "a list" if isinstance(data, list) else f"`{data}`"
        raise LoadFailed([*problems, Problem(f"the top level must be a mapping with `rules:`, not {what}",
                                             **_first_position(shown, locations))])
    rules = data.get("rules")
    if isinstance(rules, list) and len(rules) > MAX_RULES:
        raise LoadFailed([Problem(too_many_rules(len(rules)),
                                  **_first_position(shown, locations, ("rules",)))])
    return ConfigFile(path=shown, data=data, locations=locations, source=source, problems=problems,
                      failed_lines=failed)


def _first_position(path: str, locations: Mapping[Path, Position], key: Path = ()) -> dict[str, Any]:
    line, col = locations.get(key, (1, 1)) if locations else (1, 1)
    return {"file": path, "line": line, "col": col}


def _expand_templates(path: str, text: str, ext: str, opts: LoadOptions) -> tuple[str, list[Problem], set[int]]:
    """The rendered text, its problems, and the lines of every failed call (reported or not)."""
    if "{{" not in text:
        return text, [], set()
    funcs = functions.builtin_functions(opts.environ)
    plugin_problems: list[Problem] = []
    if "plugins" in text:
        # Plugins are declared in the very file they serve: read `plugins:` from a lenient first pass.
        first, _ = template.render(text, funcs, file=path, lenient=True)
        try:
            pre = yamlio.load(first)  # JSON is YAML 1.2 too
        except Exception:
            pre = None
        entries = pre.get("plugins") if isinstance(pre, dict) else None
        if entries:
            from ecsched.config import plugins

            region = pre.get("region") if isinstance(pre, dict) else None
            plugin_problems = plugins.setup(entries, funcs, config_path=path, aws_factory=opts.aws_factory,
                                            region=region if isinstance(region, str) else None,
                                            environ=opts.environ)
    failed: set[int] = set()
    rendered, problems = template.render(text, funcs, file=path, failed=failed)
    if plugin_problems:  # a call of a plugin that failed to set up would only repeat it
        problems = [p for p in problems if not p.message.startswith(functions.MISSING_FUNCTION_PREFIXES)]
    return rendered, plugin_problems + problems, failed
