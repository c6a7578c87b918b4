"""Fixes of moto's Availability Zones, and of ``Fn::GetAZs``, which must answer the same zones
(moto 5.2.5).

    moto.ec2 ... RegionsAndZonesBackend.zones   built once, when moto's EC2 is first imported
        <- fix_availability_zones               corrected right after that import (CORRECTED)
    ec2:DescribeAvailabilityZones               reads that table for the call's Region
    Fn::GetAZs (moto.cloudformation.parsing)    <- fix_get_azs: the same table, by name

Source of truth: AWS's list of AZ IDs per Region, "AWS Availability Zones"
(https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html,
the version that mentions accounts created from November 2025), which covers every Region of
the ``aws`` partition. It has no China or GovCloud Regions; for those the AZ IDs come from
AWS's EMR Serverless endpoint table (each Region "limited to" its AZ IDs) and zone names from
``describe-availability-zones`` outputs and Terraform state published in public repositories.
``tests/test_availability_zones.py`` holds that list and compares every Region moto knows with
it; what differs is either corrected here or named there with the reason it stays.

AZ *names* (the letters) map to AZ IDs per account in the oldest Regions, so moto's names are
kept wherever its set of AZ IDs matches AWS's; only the zones moto lacks are added, with the
names an account sees.

Why an import hook rather than a fix per service: the zone table is read by every service that
touches EC2's data (default subnets, EFS, Route 53, Auto Scaling through EC2...), and importing
moto's EC2 to patch it costs about a second, which a program that never uses EC2 must not pay.
The hook waits for that import, whoever makes it, and corrects the table before any backend is
built from it.
"""

from __future__ import annotations

import threading
from typing import Any

from motobox.emulation.core import after_import

ZONES_MODULE = "moto.ec2.models.availability_zones_and_regions"

#: Zones moto 5.2.5 gets wrong, as ``DescribeAvailabilityZones`` answers them: (name, AZ ID).
#: cn-north-1: moto has cnn1-az1 and cnn1-az2 only; AWS answers a third zone, cn-north-1d
#: (cnn1-az4): the EMR Serverless endpoint table limits cn-north-1 to "cnn1-az1, cnn1-az2" and
#: ParallelCluster's tests skip cnn1-az4 ("FSx not available in cnn1-az4"), and published
#: Terraform state shows ``availability_zone = "cn-north-1d"`` with ``availability_zone_id =
#: "cnn1-az4"``; projects name cn-north-1a, 1b and 1d as the Region's three zones.
CORRECTED: dict[str, tuple[tuple[str, str], ...]] = {
    "cn-north-1": (
        ("cn-north-1a", "cnn1-az1"),
        ("cn-north-1b", "cnn1-az2"),
        ("cn-north-1d", "cnn1-az4"),
    ),
}

_lock = threading.Lock()


def fix_availability_zones() -> None:
    """Every Region's zones as AWS lists them (``CORRECTED``).

    moto 5.2.5 (``moto/ec2/models/availability_zones_and_regions.py``) gives cn-north-1 two
    zones where AWS has three, so a template that spreads over three zones (a public quickstart
    does) fails there. The rest of moto's table agrees with AWS's published AZ IDs, or with what
    a newer account sees where AWS says accounts differ (``tests/test_availability_zones.py``).
    Upstream: moto's main branch (2026-08) still lists two zones for cn-north-1; no issue is
    open. The original lists stay in ``motobox_original`` on the table, for the test that shows
    moto's own data is still wrong.
    """
    with _lock:
        after_import(ZONES_MODULE, _correct, lambda m: hasattr(m, "RegionsAndZonesBackend"))


def _correct(module: Any) -> None:
    backend = module.RegionsAndZonesBackend
    zones: dict[str, list[Any]] = backend.zones
    original: dict[str, list[Any]] = getattr(backend, "motobox_original", {})
    for region, pairs in CORRECTED.items():
        if region in original:
            continue
        original[region] = zones.get(region, [])
        zones[region] = [
            module.Zone(region_name=region, name=name, zone_id=zone_id) for name, zone_id in pairs
        ]
    backend.motobox_original = original


def zone_names(region: str) -> list[str]:
    """The names of ``region``'s Availability Zones, as DescribeAvailabilityZones lists them,
    in alphabetical order (as CloudFormation answers ``Fn::GetAZs``)."""
    fix_availability_zones()
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

    zones = RegionsAndZonesBackend.zones.get(region, [])
    return sorted(z.name for z in zones if z.zone_type == "availability-zone")


def fix_get_azs() -> None:
    """``Fn::GetAZs`` answers the Region's zones, the ones ec2:DescribeAvailabilityZones lists.

    moto 5.2.5 ``parsing.clean_json`` answers ``[REGIONa, REGIONb, REGIONc, REGIONd]`` for any
    Region, reads ``""`` (the usual ``!GetAZs ""``, "the stack's Region") as us-east-1, and
    does not resolve its argument, so ``Fn::GetAZs: !Ref AWS::Region`` gives
    ``"{'Ref': 'AWS::Region'}a"``. A stack in ca-central-1 got us-east-1 zones, and
    ``!Select [1, !GetAZs ""]`` in ap-northeast-1 named a zone its EC2 does not have. Here the
    argument is resolved like any other value, ``""`` is the stack's Region, and the answer is
    ``zone_names(region)``. Upstream: moto's main branch (2026-08) still has the fixed list
    ("TODO: make this configurable, to reflect the real AWS AZs", since getmoto/moto#1425).
    Test: ``tests/test_availability_zones.py``.
    """
    from moto.cloudformation import parsing

    fix_availability_zones()
    original = parsing.clean_json
    if getattr(original, "motobox_get_azs", False):
        return

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, dict) and "Fn::GetAZs" in resource_json:
            region = clean_json(resource_json["Fn::GetAZs"], resources_map)
            if not region:
                region = getattr(resources_map, "_region_name", None) or parsing.DEFAULT_REGION
            return zone_names(str(region))
        return original(resource_json, resources_map)

    clean_json.motobox_get_azs = True  # type: ignore[attr-defined]
    clean_json.motobox_original = original  # type: ignore[attr-defined]
    parsing.clean_json = clean_json
