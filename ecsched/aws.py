"""boto3 sessions and clients. boto3 is imported here, lazily, so `--help` and `validate` never pay for it.

Endpoints come from boto3 itself: it honours AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>), which is
how tests and `ecsched sandbox` point every command at a local emulator.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ecsched.arns import Account
from ecsched.errors import EcschedError

# Throttling is retried with backoff by botocore's standard mode; 10 attempts ride out a burst.
RETRIES = {"mode": "standard", "max_attempts": 10}


class Aws:
    """One per run: a session, cached clients per (service, region), and the caller's account."""

    def __init__(self, region: str | None = None, profile: str | None = None, max_pool: int = 16) -> None:
        self._region = region
        self._profile = profile
        self._max_pool = max_pool
        self._session: Any = None
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._account: Account | None = None
        self._lock = threading.Lock()

    @property
    def session(self) -> Any:
        if self._session is None:
            import boto3

            try:
                self._session = boto3.Session(profile_name=self._profile, region_name=self._region)
            except Exception as e:  # ProfileNotFound and friends
                raise EcschedError(f"cannot create an AWS session: {e}") from e
        return self._session

    @property
    def region(self) -> str:
        # boto3 reads AWS_DEFAULT_REGION only; CI systems (GitHub Actions among them) set AWS_REGION.
        region = self._region or self.session.region_name or os.environ.get("AWS_REGION")
        if not region:
            raise EcschedError("no AWS region: set `region:` in the config, pass --region, or set AWS_REGION")
        return str(region)

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        with self._lock:
            if key not in self._clients:
                from botocore.config import Config

                cfg = Config(retries=RETRIES, max_pool_connections=self._max_pool)  # type: ignore[arg-type]
                self._clients[key] = self.session.client(service, region_name=key[1] or self.region, config=cfg)
            return self._clients[key]

    def account(self) -> Account:
        """One sts:GetCallerIdentity per run, however many rules need the account id."""
        if self._account is None:
            ident = self.client("sts").get_caller_identity()
            partition = str(ident["Arn"]).split(":")[1] if str(ident.get("Arn", "")).startswith("arn:") else "aws"
            self._account = Account(id=str(ident["Account"]), partition=partition)
        return self._account
