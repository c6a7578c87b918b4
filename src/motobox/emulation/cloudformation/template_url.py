"""A ``TemplateURL`` on the cloud's own endpoint names its bucket in the path (moto 5.2.5).

CDK and SAM build a template's URL from ``AWS_ENDPOINT_URL`` in S3's path style,
``http://127.0.0.1:PORT/BUCKET/KEY``; a nested stack's ``TemplateURL`` has the same form.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

# BUCKET.s3.REGION.amazonaws.com, BUCKET.s3-REGION..., BUCKET.s3.amazonaws.com(.cn), and the
# dualstack/fips forms: S3's virtual-hosted names. The bucket may hold dots itself.
_VIRTUAL_HOSTED = re.compile(r"^(?P<bucket>.+)\.s3[.-](?:.+\.)?amazonaws\.com(?:\.cn)?$")


def bucket_and_key(template_url: str) -> tuple[str, str]:
    """The bucket and key a template URL points at: from the host when it is S3's
    virtual-hosted name, else from the path (path style: ``s3.REGION.amazonaws.com``,
    ``localhost``, an IP address, any endpoint's own name)."""
    parts = urlsplit(template_url)
    path = unquote(parts.path).lstrip("/")
    virtual = _VIRTUAL_HOSTED.match((parts.hostname or "").lower())
    if virtual:
        return virtual.group("bucket"), path
    bucket, _, key = path.partition("/")
    return bucket, key


def fix_template_url_bucket() -> None:
    """Template URLs on an IP address or any host but ``localhost`` and S3's own names.

    moto 5.2.5 ``moto.cloudformation.utils.get_stack_from_s3_url`` reads the bucket from the
    path only when the URL contains ``localhost`` or the host is ``s3*.amazonaws.com``;
    otherwise it takes the host's first label, so ``http://127.0.0.1:PORT/bucket/key`` asks for
    bucket ``127`` and ``CreateStack``, ``CreateChangeSet``, ``UpdateStack``,
    ``ValidateTemplate``, ``GetTemplateSummary``, stack sets and nested stacks
    (``AWS::CloudFormation::Stack``) fail with ``NoSuchBucket``: ``cdk deploy`` and
    ``sam deploy --s3-bucket`` against an endpoint on 127.0.0.1 among them. A bucket whose name
    holds dots (``my.bucket.s3.amazonaws.com``) was cut at the first dot as well.
    ``bucket_and_key`` reads the bucket from the host only for S3's virtual-hosted names.

    Upstream: unchanged on moto's main branch (2026-08, ``moto/cloudformation/utils.py``); no
    moto issue found for it (searched 2026-11); LocalStack reported the same parsing in 2019
    (localstack/localstack#1506). moto imports the function by name into ``responses`` and
    ``models`` (the nested stack), so the name is replaced in all three modules.
    Test: ``tests/test_real_clients_template_url.py``, which also shows moto's own function
    still reading bucket ``127``.
    """
    from moto.cloudformation import models, responses, utils

    original = utils.get_stack_from_s3_url
    if getattr(original, "motobox_fixed", False):
        return

    def get_stack_from_s3_url(template_url: str, account_id: str, partition: str) -> str:
        from moto.s3.models import s3_backends

        bucket, key = bucket_and_key(template_url)
        found: Any = s3_backends[account_id][partition].get_object(bucket, key)
        return str(found.value.decode("utf-8"))

    get_stack_from_s3_url.motobox_fixed = True  # type: ignore[attr-defined]
    get_stack_from_s3_url.__wrapped__ = original  # type: ignore[attr-defined]
    get_stack_from_s3_url.__doc__ = fix_template_url_bucket.__doc__
    for module in (utils, responses, models):
        module.get_stack_from_s3_url = get_stack_from_s3_url  # type: ignore[attr-defined]
