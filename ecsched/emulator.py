"""An embedded AWS emulator (moto, in this process, on 127.0.0.1), seeded from a config.

Seeding creates what the config expects an account to have already: the clusters, the task
definitions (with an awslogs log configuration and their log groups), the dead-letter queues and
the subnets it names. moto cannot create a subnet with a chosen id over its API, so the subnets
are created normally and re-keyed in moto's in-process backend: this is why the emulator runs in
this process, never as a separate server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ecsched import arns
from ecsched.errors import EcschedError
from ecsched.model import Schedule

ACCOUNT = "123456789012"  # moto's default account
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


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

    def seed(self, schedules: list[Schedule]) -> list[str]:
        """Create what the schedules refer to. Idempotent. Returns a line per thing created."""
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
        return self.seeded

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
