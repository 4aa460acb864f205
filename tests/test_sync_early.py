"""The early read's skim of the config: YAML 1.2 as the loader reads it, and never stuck on a FIFO."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ecsched.sync.early import skim_config


def test_the_skim_types_scalars_as_yaml_1_2(tmp_path: Path) -> None:
    path = tmp_path / "ecsched.yaml"
    # YAML 1.1 (pyyaml's default) reads `on` and `no` as booleans: the skim would give up on these names.
    path.write_text("region: us-east-1\ncluster: api\nlockTable: locks\nrules:\n"
                    "- {name: on, scheduleExpression: 'rate(1 day)', taskDefinition: t}\n"
                    "- {name: no, scheduleExpression: 'rate(1 day)', taskDefinition: t}\n")
    assert skim_config([str(path)]) == ("us-east-1", "us-east-1", ["on", "no"], {"api"}, True)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_the_skim_never_opens_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "ecsched.yaml"
    os.mkfifo(fifo)
    assert skim_config([str(fifo)]) is None  # left to the loader, which refuses it


def test_templates_jsonnet_and_several_regions_are_left_to_the_loader(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("region: us-east-1\ncluster: api\nrules:\n- {name: x, taskDefinition: '{{ env \"T\" }}'}\n")
    assert skim_config([str(a)]) is None
    a.write_text("region: us-east-1\ncluster: api\nrules:\n- {name: x}\n")
    b.write_text("region: eu-west-1\ncluster: api\nrules:\n- {name: y}\n")
    assert skim_config([str(a), str(b)]) is None
    assert skim_config([str(tmp_path / "c.jsonnet")]) is None
