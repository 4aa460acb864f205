"""The tfstate plugin: values from a Terraform state (version 4), as fujiwara/tfstate-lookup reads them.

    plugins:
    - name: tfstate
      config:
        path: terraform.tfstate          # or url: s3://bucket/key (also file:///..., https://..., a path)
      func_prefix: net_                  # optional: net_tfstate, net_tfstatef

Template functions: `{{ tfstate "aws_subnet.private-a.id" }}` and
`{{ tfstatef "data.aws_security_group.default['%s'].id" "first" }}` (Go's %s/%d/%v/%q). Jsonnet native:
`std.native('tfstate')('aws_subnet.private-a.id')` (the raw value: lists and objects stay JSON).

Addresses: `[module.NAME[KEY].]...[data.]TYPE.NAME[KEY].ATTR[.ATTR|[N]|["k"]]...` and `output.NAME...`,
where KEY is a count index `[0]` or a for_each key `["a"]` / `['a']`. The state is read once per plugin
instance, on the first lookup.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import urllib.parse
from typing import Any

from ecsched.config import secrets
from ecsched.config.functions import Functions, TemplateError, go_sprintf
from ecsched.config.plugins import PluginContext

STATE_VERSION = 4

Key = tuple[str | int, ...]  # an address as parts: names are str, count indexes int, for_each keys ("k",)

_PART = re.compile(r"""
    \.?(?P<name>[^.\[\]"'\s]+)
  | \[\s*(?P<num>-?\d+)\s*\]
  | \[\s*"(?P<dq>(?:[^"\\]|\\.)*)"\s*\]
  | \[\s*'(?P<sq>(?:[^'\\]|\\.)*)'\s*\]
""", re.VERBOSE)


class _Index(str):
    """A for_each key: a string, but never equal-hashed to an attribute name of the same text."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Index) and str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(("idx", str(self)))


def parse_address(addr: str) -> list[str | int]:
    """`module.a["x"].aws_b.c[0].d` -> ["module", "a", _Index("x"), "aws_b", "c", 0, "d"]."""
    parts: list[str | int] = []
    pos = 0
    addr = addr.strip()
    if not addr:
        raise TemplateError("tfstate: the address is empty")
    while pos < len(addr):
        m = _PART.match(addr, pos)
        if not m or m.end() == pos:
            raise TemplateError(f"tfstate: cannot read the address `{addr}` at `{addr[pos:]}`")
        pos = m.end()
        if m["name"] is not None:
            parts.append(m["name"])
        elif m["num"] is not None:
            parts.append(int(m["num"]))
        else:
            raw = m["dq"] if m["dq"] is not None else m["sq"]
            parts.append(_Index(raw.replace('\\"', '"').replace("\\'", "'").replace("\\\\", "\\")))
    return parts


def format_address(parts: list[str | int] | Key) -> str:
    out = ""
    for p in parts:
        if isinstance(p, _Index):
            out += f"[{json.dumps(str(p), ensure_ascii=False)}]"
        elif isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + p
    return out


def _index_part(key: Any) -> str | int:
    if isinstance(key, bool) or not isinstance(key, int | str):
        return _Index(json.dumps(key))
    return key if isinstance(key, int) else _Index(key)


def go_string(value: Any) -> str:
    """A value as tfstate-lookup prints it: strings as they are, everything else as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class State:
    """A parsed state: every resource instance, data source and output under its address."""

    def __init__(self, doc: Any, source: str) -> None:
        self.source = source
        if not isinstance(doc, dict):
            raise TemplateError(f"tfstate: {source} is not a Terraform state (not a JSON object)", once=True)
        version = doc.get("version")
        if version != STATE_VERSION:
            raise TemplateError(f"tfstate: {source} has state version {version}; ecsched reads version "
                                f"{STATE_VERSION} (Terraform 0.12 and later)", once=True)
        # address parts -> (value, sensitive attribute paths)
        self.index: dict[Key, tuple[Any, list[list[str | int]]]] = {}
        for name, out in (doc.get("outputs") or {}).items():
            value = out.get("value") if isinstance(out, dict) and "value" in out else out
            sensitive: list[list[str | int]] = [[]] if isinstance(out, dict) and out.get("sensitive") else []
            self.index[("output", name)] = (value, sensitive)
        for r in doc.get("resources") or []:
            if not isinstance(r, dict) or r.get("mode") not in ("managed", "data"):
                continue
            base: list[str | int] = parse_address(r["module"]) if r.get("module") else []
            if r["mode"] == "data":
                base.append("data")
            base += [str(r.get("type")), str(r.get("name"))]
            instances = r.get("instances") or []
            if r["mode"] == "data" and r.get("type") == "terraform_remote_state" and instances:
                attrs = instances[0].get("attributes") or {}
                data = {k: (v.get("value") if isinstance(v, dict) and "value" in v and "type" in v else v)
                        for k, v in attrs.items()}
                self.index[tuple(base)] = (data, [])
                continue
            for inst in instances:
                key = list(base)
                if "index_key" in inst:
                    key.append(_index_part(inst["index_key"]))
                attrs = inst.get("attributes")
                if attrs is None:
                    attrs = inst.get("attributes_flat")
                self.index[tuple(key)] = (attrs, _sensitive_paths(inst.get("sensitive_attributes")))

    def names(self) -> list[str]:
        return sorted(format_address(k) for k in self.index)

    def lookup(self, addr: str) -> Any:
        parts = parse_address(addr)
        for n in range(len(parts), 0, -1):
            hit = self.index.get(tuple(parts[:n]))
            if hit is not None:
                value, sensitive = hit
                rest = parts[n:]
                result = self._walk(addr, format_address(parts[:n]), value, rest)
                plain = [str(x) if isinstance(x, _Index) else x for x in rest]
                if any(plain[: len(p)] == p or p[: len(plain)] == plain for p in sensitive):
                    secrets.mark_sensitive(go_string(result))
                return result
        raise TemplateError(self._missing(addr, parts))

    def _walk(self, addr: str, resource: str, value: Any, rest: list[str | int]) -> Any:
        done: list[str | int] = []
        for p in rest:
            if isinstance(value, dict) and not isinstance(p, int) and str(p) in value:
                value = value[str(p)]
            elif isinstance(value, list) and (isinstance(p, int) or (isinstance(p, str) and p.isdigit())):
                i = int(p)
                if not -len(value) <= i < len(value):
                    raise TemplateError(f"tfstate: `{addr}`: index [{i}] is out of range: "
                                        f"{format_address([resource, *done]) or resource} has {len(value)} items")
                value = value[i]
            else:
                here = format_address([resource, *done]) if done else resource
                if isinstance(value, dict):
                    near = difflib.get_close_matches(str(p), list(value), n=3, cutoff=0.5)
                    hint = (f"; nearest: {', '.join(near)}" if near
                            else f"; it has: {', '.join(sorted(value)[:20])}" if value else "")
                    raise TemplateError(f"tfstate: `{addr}`: {here} has no attribute `{p}`{hint}")
                kind = "a list" if isinstance(value, list) else f"`{go_string(value)}`"
                raise TemplateError(f"tfstate: `{addr}`: {here} is {kind}, it has no `{format_address([p])}`")
            done.append(p)
        if value is None:
            raise TemplateError(f"tfstate: `{addr}` is null in {self.source}")
        return value

    def _missing(self, addr: str, parts: list[str | int]) -> str:
        names = self.names()
        if not names:
            return f"tfstate: `{addr}` is not in {self.source}, which has no resources or outputs"
        # Compare with the resource part only: as many parts as the candidates have.
        scored: dict[str, float] = {}
        for key in self.index:
            cand = format_address(key)
            mine = format_address(parts[: len(key)])
            scored[cand] = difflib.SequenceMatcher(None, mine, cand).ratio()
        near = [c for c, s in sorted(scored.items(), key=lambda kv: -kv[1]) if s >= 0.5][:3]
        hint = f"; nearest: {', '.join(near)}" if near else f"; it has: {', '.join(names[:10])}"
        if len(names) > 10 and not near:
            hint += f" (and {len(names) - 10} more)"
        return f"tfstate: `{addr}` is not in {self.source}{hint}"


def _sensitive_paths(raw: Any) -> list[list[str | int]]:
    """Terraform's `sensitive_attributes`: [[{"type": "get_attr", "value": "password"}, ...], ...]."""
    out: list[list[str | int]] = []
    for path in raw or []:
        if not isinstance(path, list):
            continue
        steps: list[str | int] = []
        for step in path:
            if isinstance(step, dict) and "value" in step:
                v = step["value"]
                if isinstance(v, dict):  # {"type": "string", "value": "k"} in newer states
                    v = v.get("value")
                steps.append(int(v) if isinstance(v, int | float) and not isinstance(v, bool) else str(v))
        out.append(steps)
    return out


class TFStatePlugin:
    """One declared tfstate plugin: its location, and the state once read."""

    def __init__(self, config: dict[str, Any], ctx: PluginContext) -> None:
        self.ctx = ctx
        unknown = sorted(set(config) - {"path", "url"})
        if unknown:
            raise TemplateError(f"tfstate: unknown config key `{unknown[0]}` (known: path, url)")
        path, url = config.get("path"), config.get("url")
        if path is not None and not isinstance(path, str):
            raise TemplateError("tfstate: `config.path` must be a string (a local state file)")
        if url is not None and not isinstance(url, str):
            raise TemplateError("tfstate: `config.url` must be a string (s3://bucket/key)")
        if not path and not url:
            raise TemplateError("the tfstate plugin needs `config.path` (a local state file) or "
                                "`config.url` (s3://bucket/key)")
        self.location: str = path or url or ""
        self.is_url = not path
        self._state: State | None = None
        self._error: TemplateError | None = None

    @property
    def state(self) -> State:
        if self._state is None:
            if self._error is not None:
                raise self._error
            try:
                self._state = self._load()
            except TemplateError as e:
                self._error = TemplateError(str(e), once=True)
                raise self._error from None
        return self._state

    # --- reading ------------------------------------------------------------------------------
    def _load(self) -> State:
        if not self.is_url:
            return self._read_local(self.location)
        u = urllib.parse.urlparse(self.location)
        if u.scheme == "s3":
            return self._read_s3(u.netloc, u.path.lstrip("/"))
        if u.scheme == "file":
            return self._read_local(urllib.parse.unquote(u.path), resolve=False)
        if u.scheme in ("http", "https"):
            return self._read_http(self.location)
        if u.scheme == "" or (len(u.scheme) == 1 and os.name == "nt"):
            return self._read_local(self.location)
        raise TemplateError(f"tfstate: `{self.location}`: the URL scheme `{u.scheme}` is not supported "
                            "(use s3://bucket/key, file:///path, https://... or a local path)")

    def _read_local(self, path: str, *, resolve: bool = True) -> State:
        resolved = self.ctx.resolve_path(path) if resolve else path
        try:
            with open(resolved, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            looked = self.ctx.candidates(path) if resolve else [path]
            raise TemplateError(f"tfstate: state file `{path}` not found (looked for {' and '.join(looked)}); "
                                "relative paths are resolved against the config file's folder, then the "
                                "working directory") from None
        except IsADirectoryError:
            raise TemplateError(f"tfstate: `{resolved}` is a directory, not a state file") from None
        except OSError as e:
            raise TemplateError(f"tfstate: cannot read `{resolved}`: {e.strerror}") from None
        doc = self._parse(raw, path)
        if isinstance(doc, dict) and isinstance(doc.get("backend"), dict):
            return self._follow_backend(doc["backend"], path, os.path.dirname(resolved))
        return State(doc, path)

    def _read_s3(self, bucket: str, key: str) -> State:
        if not bucket or not key:
            raise TemplateError(f"tfstate: `{self.location}` must look like s3://bucket/key")
        where = f"s3://{bucket}/{key}"
        try:
            obj = self.ctx.aws().client("s3").get_object(Bucket=bucket, Key=key)
            raw = obj["Body"].read()
        except TemplateError:
            raise
        except Exception as e:
            raise TemplateError(f"tfstate: cannot read {where}: {_aws_reason(e)}") from None
        return State(self._parse(raw, where), where)

    def _read_http(self, url: str) -> State:
        import urllib.request

        try:
            with urllib.request.urlopen(url, timeout=30) as resp:
                raw = resp.read()
        except Exception as e:
            raise TemplateError(f"tfstate: cannot read {url}: {e}") from None
        return State(self._parse(raw, url), url)

    def _follow_backend(self, backend: dict[str, Any], path: str, folder: str) -> State:
        """A `.terraform/terraform.tfstate` only points at the real state: follow an s3 backend."""
        kind = backend.get("type")
        cfg = backend.get("config") or {}
        if kind != "s3" or not cfg.get("bucket") or not cfg.get("key"):
            raise TemplateError(f"tfstate: {path} points at a `{kind}` backend, which ecsched cannot follow; "
                                "set `config.url` to the state's location (s3://bucket/key)")
        workspace = self.ctx.env.get("TF_WORKSPACE") or ""
        if not workspace:
            try:
                with open(os.path.join(folder, "environment"), encoding="utf-8") as f:
                    workspace = f.read().strip()
            except OSError:
                workspace = ""
        key = str(cfg["key"])
        if workspace and workspace != "default":
            key = f"{cfg.get('workspace_key_prefix') or 'env:'}/{workspace}/{key}"
        return self._read_s3(str(cfg["bucket"]), key)

    @staticmethod
    def _parse(raw: bytes, where: str) -> Any:
        try:
            return json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as e:
            raise TemplateError(f"tfstate: {where} is not valid JSON ({e})") from None

    # --- the functions ------------------------------------------------------------------------
    def tfstate(self, *args: str) -> str:
        if len(args) != 1:
            raise TemplateError(f"tfstate takes one address, e.g. {{{{ tfstate `aws_vpc.main.id` }}}} "
                                f"(got {len(args)} arguments)")
        return go_string(self.state.lookup(args[0]))

    def tfstatef(self, *args: str) -> str:
        if not args:
            raise TemplateError("tfstatef takes a format and its arguments, e.g. "
                                "{{ tfstatef `aws_subnet.private['%s'].id` `a` }}")
        return go_string(self.state.lookup(go_sprintf(args[0], args[1:])))

    def native(self, address: Any) -> Any:
        if not isinstance(address, str):
            raise TemplateError("tfstate: the address must be a string")
        return self.state.lookup(address)


def _aws_reason(e: Exception) -> str:
    response = getattr(e, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        err = response["Error"]
        code = str(err.get("Code", type(e).__name__))
        if code in ("NoSuchKey", "404", "NotFound"):
            return "no such object (NoSuchKey)"
        return f"{code}: {err.get('Message', e)}"
    return f"{type(e).__name__}: {e}"


def setup(config: dict[str, Any], funcs: Functions, prefix: str, ctx: PluginContext) -> None:
    plugin = TFStatePlugin(config, ctx)
    origin = f"the tfstate plugin ({plugin.location})"
    funcs.register(prefix + "tfstate", plugin.tfstate, origin=origin)
    funcs.register(prefix + "tfstatef", plugin.tfstatef, origin=origin)
    funcs.register_native(prefix + "tfstate", ("address",), plugin.native)
