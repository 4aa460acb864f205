"""An embedded AWS emulator (moto, in this process, on 127.0.0.1), seeded from a config.

Seeding creates what the config expects an account to have already: the clusters, the task
definitions (with an awslogs log configuration and their log groups), the dead-letter queues and
the subnets it names. Before the config is read, the user's inputs can be seeded too: S3 objects
(a Terraform state for the tfstate plugin) and SSM parameters (for the ssm plugin).

moto cannot create a subnet with a chosen id over its API, so the subnets
are created normally and re-keyed in moto's in-process backend: this is why the emulator runs in
this process, never as a separate server.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from ecsched import arns
from ecsched.errors import EcschedError
from ecsched.model import Schedule

ACCOUNT = "123456789012"  # moto's default account
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


@dataclass(frozen=True)
class S3Seed:
    bucket: str
    key: str
    body: bytes
    source: str


@dataclass(frozen=True)
class SsmSeed:
    name: str
    value: str
    secure: bool


def parse_s3_seed(spec: str) -> S3Seed:
    """`s3://BUCKET/KEY=FILE` (the last `=` splits: keys may hold one). The file is read now."""
    url, eq, source = spec.rpartition("=")
    m = re.fullmatch(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.+)", url)
    if not eq or not m or not source:
        raise EcschedError(f"--s3 {spec}: write s3://BUCKET/KEY=FILE, e.g. "
                           "s3://tfstate/app/terraform.tfstate=./terraform.tfstate")
    try:
        with open(source, "rb") as f:
            body = f.read()
    except OSError as e:
        raise EcschedError(f"--s3 {spec}: cannot read {source}: {e.strerror}") from None
    return S3Seed(m.group(1), m.group(2), body, source)


def parse_ssm_seed(spec: str, *, secure: bool) -> SsmSeed:
    """`NAME=VALUE` (the first `=` splits: names cannot hold one)."""
    name, eq, value = spec.partition("=")
    option = "--ssm-secure" if secure else "--ssm"
    if not eq or not name:
        raise EcschedError(f"{option} {spec}: write NAME=VALUE, e.g. {option} /app/db-host=db.internal")
    return SsmSeed(name, value, secure)


# A top-level `region: us-east-1` (YAML), or `"region": "us-east-1",` (JSON, Jsonnet) at any indentation.
_REGION_LINE = re.compile(r"""^(?:\s*["']region["']|region)\s*:\s*"""
                          r"""["']?([a-z]{2}(?:-[a-z]+)+-\d)["']?\s*,?\s*(?:#.*)?$""", re.M)


def region_in(path: str) -> str | None:
    """The literal top-level `region:` of a config file, read before it can be loaded (its plugins may need
    the emulator); None when it is computed, or the file cannot be read."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return None
    m = _REGION_LINE.search(text)
    return m.group(1) if m else None


@dataclass
class Emulator:
    port: int = 0
    region: str = "us-east-1"
    url: str = ""
    seeded: list[str] = field(default_factory=list)
    _server: Any = None

    def start(self) -> str:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError:
            raise EcschedError("the emulator needs moto: pip install 'ecsched[sandbox]'") from None
        import logging

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log on the terminal
        if self.port:
            # moto binds in a background thread and dies there silently: find out first.
            import socket

            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind(("127.0.0.1", self.port))
                except OSError as e:
                    raise EcschedError(f"cannot listen on 127.0.0.1:{self.port}: {e.strerror}; "
                                       "pick another --port (0 picks a free one)") from None
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def environ(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.url, "AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region,
                **DUMMY_CREDENTIALS}

    def activate(self) -> None:
        """Point this process's boto3 at the emulator (boto3 reads AWS_ENDPOINT_URL by itself)."""
        for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(k, None)
        os.environ.update(self.environ())

    def _client(self, service: str, region: str) -> Any:
        import boto3

        session = boto3.Session(aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"], region_name=region)
        return session.client(service, endpoint_url=self.url)  # type: ignore[call-overload]

    def seed_inputs(self, objects: list[S3Seed], parameters: list[SsmSeed], regions: list[str]) -> list[str]:
        """What the config's plugins will read: S3 objects, and SSM parameters in each of `regions`."""
        out: list[str] = []
        for o in objects:
            s3 = self._client("s3", self.region)
            try:
                if self.region == "us-east-1":
                    s3.create_bucket(Bucket=o.bucket)
                else:
                    s3.create_bucket(Bucket=o.bucket, CreateBucketConfiguration={"LocationConstraint": self.region})
            except s3.exceptions.BucketAlreadyOwnedByYou:
                pass
            s3.put_object(Bucket=o.bucket, Key=o.key, Body=o.body)
            out.append(f"s3://{o.bucket}/{o.key} (from {o.source}, {len(o.body)} bytes)")
        for region in dict.fromkeys(regions):
            for p in parameters:
                kind = "SecureString" if p.secure else "String"
                self._client("ssm", region).put_parameter(Name=p.name, Value=p.value, Type=kind, Overwrite=True)
                out.append(f"SSM parameter {p.name} ({kind}, {region})")
        self.seeded += out
        return out

    def seed(self, schedules: list[Schedule]) -> list[str]:
        """Create what the schedules refer to. Idempotent. Returns a line per thing created."""
        first = len(self.seeded)
        done: set[tuple[str, str]] = set()
        for s in schedules:
            t = s.target
            region = s.region
            ecs = self._client("ecs", region)
            cluster = arns.short(t.cluster_arn)
            if ("cluster", t.cluster_arn) not in done:
                ecs.create_cluster(clusterName=cluster)
                self.seeded.append(f"cluster {cluster} ({region})")
                done.add(("cluster", t.cluster_arn))
            td = arns.short(t.task_definition_arn)
            family, _, rev = td.partition(":")
            if ("taskdef", f"{region}/{family}") not in done:
                containers = [co.name for co in t.container_overrides] or ["app"]
                self._register(region, family, containers, int(rev) if rev.isdigit() else 1)
                done.add(("taskdef", f"{region}/{family}"))
            if t.network:
                for subnet in t.network.subnets:
                    if ("subnet", subnet) not in done:
                        self._subnet(region, subnet)
                        done.add(("subnet", subnet))
            if t.dead_letter_arn and ("sqs", t.dead_letter_arn) not in done:
                self._client("sqs", region).create_queue(QueueName=t.dead_letter_arn.rsplit(":", 1)[-1])
                self.seeded.append(f"queue {t.dead_letter_arn.rsplit(':', 1)[-1]}")
                done.add(("sqs", t.dead_letter_arn))
        return self.seeded[first:]

    def _register(self, region: str, family: str, containers: list[str], revisions: int) -> None:
        ecs = self._client("ecs", region)
        logs = self._client("logs", region)
        group = f"/ecs/{family}"
        try:
            logs.create_log_group(logGroupName=group)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        defs = [{
            "name": name, "image": f"{family}:latest", "memory": 512, "essential": i == 0,
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": group, "awslogs-region": region, "awslogs-stream-prefix": "ecs"}},
        } for i, name in enumerate(dict.fromkeys(containers))]
        for _ in range(max(1, revisions)):
            ecs.register_task_definition(family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                         cpu="256", memory="512", containerDefinitions=defs)
        self.seeded.append(f"task definition {family}:{max(1, revisions)} (logs in {group})")

    def _subnet(self, region: str, subnet_id: str) -> None:
        from moto.ec2.models import ec2_backends

        ec2 = self._client("ec2", region)
        vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        backend = ec2_backends[ACCOUNT][region]
        n = sum(len(v) for v in backend.subnets.values())
        created = ec2.create_subnet(VpcId=vpc, CidrBlock=f"172.31.{100 + n}.0/24")["Subnet"]
        az = created["AvailabilityZone"]
        obj = backend.subnets[az].pop(created["SubnetId"])
        obj.id = subnet_id  # moto's API cannot choose an id; its backend can
        backend.subnets[az][subnet_id] = obj
        self.seeded.append(f"subnet {subnet_id}")
