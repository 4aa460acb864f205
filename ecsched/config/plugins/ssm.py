"""The ssm plugin: values from SSM Parameter Store, as ecspresso offers them.

    plugins:
    - name: ssm
      config:
        region: ap-northeast-1        # optional: else the config's `region:`, then the environment's
      func_prefix: shared_            # optional: shared_ssm

Template functions: `{{ ssm "/path/name" }}` and `{{ ssm "/path/list" 1 }}` (item 1, from 0, of a
StringList). Jsonnet natives: `std.native('ssm')('/path/name')` and `std.native('ssm_list')('/path', 1)`.

SecureString values are decrypted (they are applied as they are) and marked sensitive, so that every
output shows `(sensitive)` instead. Each parameter is fetched once per run.
"""

from __future__ import annotations

from typing import Any

from ecsched.config import secrets
from ecsched.config.functions import Functions, TemplateError
from ecsched.config.plugins import PluginContext

CONFIG_KEYS = ("region",)


class SSMPlugin:
    def __init__(self, config: dict[str, Any], ctx: PluginContext) -> None:
        unknown = sorted(set(config) - set(CONFIG_KEYS))
        if unknown:
            raise TemplateError(f"ssm: unknown config key `{unknown[0]}` (known: {', '.join(CONFIG_KEYS)})")
        region = config.get("region")
        if region is not None and (not isinstance(region, str) or not region):
            raise TemplateError("ssm: `config.region` must be a region name such as us-east-1")
        self.ctx = ctx
        self.region: str | None = region
        self._cache: dict[str, tuple[str, str] | TemplateError] = {}

    def _client(self) -> Any:
        return self.ctx.aws().client("ssm", self.region) if self.region else self.ctx.aws().client("ssm")

    def get(self, name: str) -> tuple[str, str]:
        """(type, value) of a parameter: fetched once, failures included."""
        if not isinstance(name, str) or not name:
            raise TemplateError("ssm: the parameter name must be a non-empty string, e.g. `/app/db/host`")
        cached = self._cache.get(name)
        if cached is None:
            cached = self._fetch(name)
            self._cache[name] = cached
        if isinstance(cached, TemplateError):
            raise cached
        return cached

    def _fetch(self, name: str) -> tuple[str, str] | TemplateError:
        client = self._client()
        try:
            param = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        except Exception as e:
            region = getattr(getattr(client, "meta", None), "region_name", None) or "?"
            code = _error_code(e)
            if code in ("ParameterNotFound", "ParameterVersionNotFound"):
                return TemplateError(f"ssm: parameter `{name}` not found in {region}", once=True)
            if code is not None:
                msg = getattr(e, "response", {}).get("Error", {}).get("Message", "")
                return TemplateError(f"ssm: cannot read parameter `{name}` in {region}: {code}: {msg}", once=True)
            return TemplateError(f"ssm: cannot read parameter `{name}`: {type(e).__name__}: {e}", once=True)
        kind, value = str(param.get("Type", "String")), str(param.get("Value", ""))
        if kind == "SecureString":
            secrets.mark_sensitive(value)
        return kind, value

    def item(self, name: str, index: Any) -> str:
        kind, value = self.get(name)
        if kind != "StringList":
            raise TemplateError(f"ssm: `{name}` is a {kind} parameter, not a StringList: drop the index")
        try:
            i = int(index) if not isinstance(index, float) or index.is_integer() else None
        except (TypeError, ValueError):
            i = None
        if i is None:
            raise TemplateError(f"ssm: the index into `{name}` must be a whole number, got `{index}`")
        items = value.split(",")
        if not 0 <= i < len(items):
            raise TemplateError(f"ssm: `{name}` has {len(items)} item(s) (0 to {len(items) - 1}); "
                                f"there is no item {i}")
        return items[i]

    # --- template function and Jsonnet natives --------------------------------------------------
    def ssm(self, *args: str) -> str:
        if len(args) == 1:
            return self.get(args[0])[1]
        if len(args) == 2:
            return self.item(args[0], args[1])
        raise TemplateError("ssm takes a parameter name and, for a StringList, an index: "
                            "{{ ssm `/app/name` }} or {{ ssm `/app/list` 0 }}")

    def native(self, name: Any) -> str:
        return self.get(name)[1]

    def native_list(self, name: Any, index: Any) -> str:
        return self.item(name, index)


def _error_code(e: Exception) -> str | None:
    response = getattr(e, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        return str(response["Error"].get("Code") or type(e).__name__)
    return None


def setup(config: dict[str, Any], funcs: Functions, prefix: str, ctx: PluginContext) -> None:
    plugin = SSMPlugin(config, ctx)
    funcs.register(prefix + "ssm", plugin.ssm, origin="the ssm plugin")
    funcs.register_native(prefix + "ssm", ("name",), plugin.native)
    funcs.register_native(prefix + "ssm_list", ("name", "index"), plugin.native_list)
