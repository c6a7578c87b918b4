"""Availability Zones as AWS lists them, and ``Fn::GetAZs`` answering the same ones
(``emulation/ec2.py``).

``PUBLISHED`` is AWS's list of AZ IDs per Region: "AWS Availability Zones",
https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html
(the version that mentions accounts created from November 2025), for every Region of the
``aws`` partition. China and GovCloud are not on that page: their AZ IDs are the ones AWS's EMR
Serverless endpoint table limits each Region to (cn-north-1 adds cnn1-az4, which exists but
EMR Serverless does not use: see ``emulation.ec2.CORRECTED``), and a published
``describe-availability-zones`` of cn-northwest-1 and Terraform state of us-gov-east-1 agree.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from conftest import last_line_of_fresh_python
from motobox import emulation
from motobox.cloud import Cloud


def _ids(prefix: str, *numbers: int) -> tuple[str, ...]:
    return tuple(f"{prefix}-az{n}" for n in numbers)


PUBLISHED = {
    "us-east-1": _ids("use1", 1, 2, 3, 4, 5, 6),
    "us-east-2": _ids("use2", 1, 2, 3),
    "us-west-1": _ids("usw1", 1, 2, 3),
    "us-west-2": _ids("usw2", 1, 2, 3, 4),
    "ca-central-1": _ids("cac1", 1, 2, 4),
    "ca-west-1": _ids("caw1", 1, 2, 3),
    "mx-central-1": _ids("mxc1", 1, 2, 3),
    "af-south-1": _ids("afs1", 1, 2, 3),
    "ap-east-1": _ids("ape1", 1, 2, 3),
    "ap-east-2": _ids("ape2", 1, 2, 3),
    "ap-northeast-1": _ids("apne1", 1, 2, 3, 4),
    "ap-northeast-2": _ids("apne2", 1, 2, 3, 4),
    "ap-northeast-3": _ids("apne3", 1, 2, 3),
    "ap-south-1": _ids("aps1", 1, 2, 3),
    "ap-south-2": _ids("aps2", 1, 2, 3),
    "ap-southeast-1": _ids("apse1", 1, 2, 3),
    "ap-southeast-2": _ids("apse2", 1, 2, 3),
    "ap-southeast-3": _ids("apse3", 1, 2, 3),
    "ap-southeast-4": _ids("apse4", 1, 2, 3),
    "ap-southeast-5": _ids("apse5", 1, 2, 3),
    "ap-southeast-6": _ids("apse6", 1, 2, 3),
    "ap-southeast-7": _ids("apse7", 1, 2, 3),
    "eu-central-1": _ids("euc1", 1, 2, 3),
    "eu-central-2": _ids("euc2", 1, 2, 3),
    "eu-north-1": _ids("eun1", 1, 2, 3),
    "eu-south-1": _ids("eus1", 1, 2, 3),
    "eu-south-2": _ids("eus2", 1, 2, 3),
    "eu-west-1": _ids("euw1", 1, 2, 3),
    "eu-west-2": _ids("euw2", 1, 2, 3, 4),
    "eu-west-3": _ids("euw3", 1, 2, 3),
    "il-central-1": _ids("ilc1", 1, 2, 3),
    "me-central-1": _ids("mec1", 1, 2, 3),
    "me-south-1": _ids("mes1", 1, 2, 3),
    "sa-east-1": _ids("sae1", 1, 2, 3),
    "cn-north-1": _ids("cnn1", 1, 2, 4),
    "cn-northwest-1": _ids("cnnw1", 1, 2, 3),
    "us-gov-east-1": _ids("usge1", 1, 2, 3),
    "us-gov-west-1": _ids("usgw1", 1, 2, 3),
}

#: Regions where an account created today sees fewer zones than AWS lists, and why moto's
#: (fewer) zones stay.
NEWER_ACCOUNTS = {
    # AWS's own footnote: "Newer accounts can access two Availability Zones in US West
    # (N. California)"; EFS One Zone lists usw1-az1 and usw1-az3 for it.
    "us-west-1": _ids("usw1", 1, 3),
    # apne1-az3 is a constrained zone ("ap-northeast-1b" of old accounts): AWS removes
    # constrained zones from the list of new accounts (Knowledge Center, "find Availability
    # Zone options"); accounts show ap-northeast-1a, 1c and 1d.
    "ap-northeast-1": _ids("apne1", 1, 2, 4),
    # The AZ table lists euw2-az4, but AWS's Regions table gives Europe (London) 3 AZs: which
    # accounts see a fourth could not be verified, so moto's three stay.
    "eu-west-2": _ids("euw2", 1, 2, 3),
}


def _moto_zones() -> Any:
    emulation.apply("ec2")
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

    return RegionsAndZonesBackend


def test_every_region_moto_knows_has_the_zones_aws_lists() -> None:
    backend = _moto_zones()
    regions = sorted(r.name for r in backend.regions)
    unknown = [r for r in regions if r not in PUBLISHED]
    assert not unknown, f"add {unknown} to PUBLISHED from AWS's AZ list (see the docstring)"
    wrong = {}
    for region in regions:
        have = tuple(sorted(z.zone_id for z in backend.zones[region]))
        want = NEWER_ACCOUNTS.get(region, PUBLISHED[region])
        names = [z.name for z in backend.zones[region]]
        if have != want or len(set(names)) != len(names) or any(n[:-1] != region for n in names):
            wrong[region] = (have, want)
    assert not wrong, wrong


def test_moto_itself_still_gives_cn_north_1_two_zones() -> None:
    """When a moto release lists cn-north-1's third zone, this fails and the fix goes."""
    original = _moto_zones().motobox_original["cn-north-1"]
    assert [(z.name, z.zone_id) for z in original] == [
        ("cn-north-1a", "cnn1-az1"),
        ("cn-north-1b", "cnn1-az2"),
    ]


def test_cn_north_1_has_three_zones_in_describe_availability_zones() -> None:
    with Cloud() as cloud:
        zones = cloud.client("ec2", region_name="cn-north-1").describe_availability_zones()
    assert [(z["ZoneName"], z["ZoneId"]) for z in zones["AvailabilityZones"]] == [
        ("cn-north-1a", "cnn1-az1"),
        ("cn-north-1b", "cnn1-az2"),
        ("cn-north-1d", "cnn1-az4"),
    ]


def test_the_zone_table_is_corrected_when_any_service_first_imports_moto_ec2() -> None:
    """The fix waits for moto's EC2 to be imported (a second of start-up otherwise), whoever
    imports it: here EFS, in a fresh process."""
    script = (
        "import sys\n"
        "from motobox import emulation\n"
        "emulation.apply('efs')\n"
        "assert 'moto.ec2' not in sys.modules, 'the fix imported moto.ec2'\n"
        "import moto.efs.models\n"
        "assert 'moto.ec2.models' in sys.modules, 'EFS did not import moto.ec2'\n"
        "from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend as R\n"
        "print(sorted(z.name for z in R.zones['cn-north-1']))\n"
    )
    assert last_line_of_fresh_python(script) == "['cn-north-1a', 'cn-north-1b', 'cn-north-1d']"


GET_AZS = """
Resources:
  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}
  Last:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: 10.0.9.0/24
      AvailabilityZone: !Select [LAST, !GetAZs ""]
Outputs:
  Empty: {Value: !Join [",", !GetAZs ""]}
  RefRegion: {Value: !Join [",", {"Fn::GetAZs": !Ref "AWS::Region"}]}
  Named: {Value: !Join [",", !GetAZs us-west-2]}
"""


@pytest.mark.parametrize("region", ["cn-north-1", "ca-central-1", "ap-northeast-1", "us-west-1"])
def test_get_azs_answers_what_describe_availability_zones_lists(region: str) -> None:
    with Cloud() as cloud:
        ec2 = cloud.client("ec2", region_name=region)
        names = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
        oregon = cloud.client("ec2", region_name="us-west-2").describe_availability_zones()
        cfn = cloud.client("cloudformation", region_name=region)
        body = GET_AZS.replace("LAST", str(len(names) - 1))
        cfn.create_stack(StackName="zones", TemplateBody=body)
        stack = cfn.describe_stacks(StackName="zones")["Stacks"][0]
        subnets = ec2.describe_subnets(Filters=[{"Name": "cidr-block", "Values": ["10.0.9.0/24"]}])
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"].split(",") for o in stack["Outputs"]}
    assert outputs["Empty"] == outputs["RefRegion"] == sorted(names)
    assert outputs["Named"] == sorted(z["ZoneName"] for z in oregon["AvailabilityZones"])
    # The last zone GetAZs names is one EC2 has: the subnet is there.
    assert [s["AvailabilityZone"] for s in subnets["Subnets"]] == [sorted(names)[-1]]


def test_get_azs_agrees_with_the_zone_table_in_every_region() -> None:
    emulation.apply("cloudformation")
    from moto.cloudformation import parsing

    backend = _moto_zones()
    clean_json: Any = parsing.clean_json

    class Stack:
        def __init__(self, region: str) -> None:
            self._region_name = region

    for region in (r.name for r in backend.regions):
        expected = sorted(z.name for z in backend.zones[region])
        assert clean_json({"Fn::GetAZs": ""}, Stack(region)) == expected, region


def test_moto_itself_still_answers_get_azs_with_us_east_1_abcd() -> None:
    """When a moto release reads the Region's zones, this fails and the fix goes."""
    emulation.apply("cloudformation")
    from moto.cloudformation import parsing

    original: Any = parsing.clean_json
    while not getattr(original, "motobox_get_azs", False):
        original = original.motobox_original  # other fixes may wrap clean_json too
    moto_own = original.motobox_original

    class Stack:
        _region_name = "cn-north-1"

    assert moto_own({"Fn::GetAZs": ""}, Stack()) == [f"us-east-1{x}" for x in "abcd"]


def test_a_fix_asked_for_while_its_module_is_being_imported_says_so() -> None:
    """A module half imported is in ``sys.modules`` already and will not be imported again: the
    hook would wait for ever and the fix never apply. It says so instead."""
    import types

    from motobox.emulation.core import after_import

    half = types.ModuleType("motobox_test_half_imported")
    sys.modules[half.__name__] = half
    try:
        with pytest.raises(RuntimeError, match="still being imported"):
            after_import(half.__name__, lambda m: None, lambda m: hasattr(m, "done"))
    finally:
        del sys.modules[half.__name__]
