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
    """A plain sentence for botocore's errors, without importing botocore up front."""
    if not type(exc).__module__.startswith(("botocore", "boto3")):
        return None
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID (or run `ecsched sandbox`)"
    if name == "NoRegionError":
        return "no AWS region: set `region:` in the config, pass --region, or set AWS_REGION"
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError"):
        return f"cannot reach AWS: {exc}"
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        err = response.get("Error", {})
        op = getattr(exc, "operation_name", "AWS")
        return f"{op} failed: {err.get('Code', name)}: {err.get('Message', exc)}"
    return f"AWS error: {exc}"
