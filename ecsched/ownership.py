"""Who owns a live rule, computed exactly as ecschedule computes it. Pure: no I/O.

ecschedule tags each rule it writes with `ecschedule:tracking-id` (rule.go `TagResourceInput`). The value
(config.go `LoadConfig`, rule.go `mergeBaseConfig`) is the rule's own `trackingId`, else the file's
`trackingId`, else the file's top-level `cluster` exactly as written: an ARN stays an ARN, and a rule-level
`cluster:` does not change it. A file with neither writes an empty value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ecsched import arns
from ecsched.model import TRACKING_TAG, Live, Schedule


def tracking_id_of(top: Mapping[str, Any], rule: Mapping[str, Any] | None = None) -> str:
    """The tag value ecschedule writes for `rule` of the file `top` (both as loaded)."""
    for value in ((rule or {}).get("trackingId"), top.get("trackingId"), top.get("cluster")):
        if value not in (None, ""):
            return str(value)
    return ""


def cluster_name(value: str) -> str:
    """`batch` for `batch` and for `arn:aws:ecs:REGION:ACCOUNT:cluster/batch`; other values as they are."""
    p = arns.parse(value)
    if p and p["service"] == "ecs" and p["rest"].startswith("cluster/"):
        return p["rest"].split("/", 1)[1]
    return value


def same_owner(tag: str | None, tracking_id: str, region: str = "") -> bool:
    """True when a rule tagged `tag` belongs to `tracking_id`. A cluster name and its ARN (in the rule's
    region) are one owner: ecschedule writes whichever the file spells."""
    if tag is None:
        return False
    if tag == tracking_id:
        return True
    for a, b in ((tag, tracking_id), (tracking_id, tag)):
        p = arns.parse(a)
        if (p and p["service"] == "ecs" and p["rest"] == f"cluster/{b}" and not arns.is_arn(b)
                and (not region or p["region"] == region)):
            return True
    return False


def owned_by_any(tag: str | None, owners: Iterable[str], region: str = "") -> bool:
    return any(same_owner(tag, o, region) for o in owners)


def owns(s: Schedule, lv: Live) -> bool:
    """`s`'s file owns the live rule. Also a rule that an earlier ecsched tagged with the rule's own cluster
    name (it wrote a fingerprint too, which ecschedule never does)."""
    if same_owner(lv.tracking_id, s.tracking_id, s.region):
        return True
    legacy = cluster_name(s.target.cluster_arn)
    return bool(lv.fingerprint) and lv.tracking_id == legacy


def found(lv: Live) -> str:
    """What the live rule holds, in words, for messages."""
    if lv.schedule is not None:
        return f"its one target is an ECS task on {lv.schedule.target.cluster_arn}"
    if not lv.target_ids:
        return "it has no target"
    if len(lv.target_ids) > 1:
        return f"it has {len(lv.target_ids)} targets ({', '.join(lv.target_arns) or ', '.join(lv.target_ids)})"
    return lv.unmanaged or "its target is not one ecsched manages"


def untagged_mismatch(s: Schedule, lv: Live) -> str | None:
    """None when an untagged live rule is one that ecschedule before v0.10 (which wrote no tag) would have
    made from `s`: its only target is an ECS task on the file's cluster. Otherwise what differs."""
    if lv.schedule is None:
        return found(lv)
    if lv.schedule.target.cluster_arn != s.target.cluster_arn:
        return f"its ECS target runs on {lv.schedule.target.cluster_arn}, not on this file's {s.target.cluster_arn}"
    return None


def not_ours(s: Schedule, lv: Live, adopt: bool) -> str:
    """The conflict message for a live rule of `s`'s name that `s`'s file does not own."""
    tid = s.tracking_id
    if lv.tracking_id is not None:
        return (f"it is tagged {TRACKING_TAG}=`{lv.tracking_id}`, and this file's trackingId is `{tid}`: a file "
                f"with that trackingId manages it. ecsched never takes a rule from another trackingId, even with "
                f"--adopt; rename the rule in one of the files, or give both files the same trackingId")
    what = untagged_mismatch(s, lv) or found(lv)
    head = f"it has no {TRACKING_TAG} tag and {what}"
    if lv.schedule is None and lv.target_ids:
        return (f"{head}. ecsched manages rules whose one target is an ECS task, so even --adopt leaves it "
                "alone: rename the rule in the file, or delete the live rule")
    if adopt:
        return head
    return (f"{head}. A plain apply takes an untagged rule only when its one target is an ECS task on this "
            f"file's cluster. --adopt would tag it {TRACKING_TAG}=`{tid}` and overwrite it with the file's "
            "definition")
