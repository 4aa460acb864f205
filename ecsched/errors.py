"""The errors a user can cause. The CLI turns each into one clear message and a non-zero exit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem with the configuration, located as precisely as we can."""

    message: str
    file: str | None = None
    line: int | None = None  # 1-based
    col: int | None = None  # 1-based
    rule: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line:
                where += f":{self.line}"
                if self.col:
                    where += f":{self.col}"
            where += ": "
        rule = f"rule {self.rule}: " if self.rule else ""
        return f"{where}{rule}{self.message}"


class EcschedError(Exception):
    """A failure the user can fix. `str()` is the whole message; exit code 1 unless said otherwise."""

    exit_code = 1

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class ConfigError(EcschedError):
    """The configuration is invalid. Carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem], warnings: list[Problem] | None = None) -> None:
        self.problems = problems
        # Warnings found on the way, so `validate` can show them next to the errors.
        self.warnings = list(warnings or [])
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def one(cls, message: str, **where: object) -> ConfigError:
        return cls([Problem(message, **where)])  # type: ignore[arg-type]


class AwsError(EcschedError):
    """An AWS call failed in a way that is worth a plain sentence (missing permission, no such cluster...)."""


def describe_aws_exception(exc: BaseException) -> str | None:
    """A plain sentence for botocore's errors, without importing botocore up front. Always one line: an
    HTML error page (a proxy, a load balancer, the emulator) becomes its status and the action."""
    if not type(exc).__module__.startswith(("botocore", "boto3")):
        return None
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID (or run `ecsched sandbox`)"
    if name == "NoRegionError":
        return "no AWS region: set `region:` in the config, pass --region, or set AWS_REGION"
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError"):
        return f"cannot reach AWS: {_one_line(str(exc))}"
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        err = response.get("Error") or {}
        op = getattr(exc, "operation_name", "AWS")
        meta = response.get("ResponseMetadata") or {}
        status = meta.get("HTTPStatusCode")
        headers = {str(k).lower(): str(v) for k, v in (meta.get("HTTPHeaders") or {}).items()}
        message = str(err.get("Message", "")) if isinstance(err, dict) else ""
        code = str(err.get("Code", "")) if isinstance(err, dict) else ""
        if "html" in headers.get("content-type", "") or _looks_like_html(message) or not err:
            return (f"{op} failed: {_status(status)}, an error page instead of an AWS answer (a proxy or the "
                    "endpoint failed)")
        if not code or code == str(status) or code == "Unknown":
            code = _status(status)
        return f"{op} failed: {code}: {_one_line(message or str(exc))}"
    return f"AWS error: {_one_line(str(exc))}"


def _status(status: object) -> str:
    from http import HTTPStatus

    try:
        return f"HTTP {int(str(status))} {HTTPStatus(int(str(status))).phrase}"
    except ValueError:
        return f"HTTP {status}" if status is not None else "no HTTP status"


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html", "<head", "<body", "<?xml")) and "<" in head[1:]


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# Real bugs (not a user's mistake, not AWS): their own exit code, and where to report them.
EXIT_INTERNAL = 70  # EX_SOFTWARE
REPORT_BUG = ("this is a bug in ecsched, not in your file: please report it on the project's issue tracker "
              "with the output of the same command run with --debug")
