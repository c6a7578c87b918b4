"""moto's service handlers called without Flask (``motobox.aws.moto_app``) answer as moto's
Flask apps do: the CORS headers flask_cors adds to every answer come from the same options."""

from __future__ import annotations

import urllib.request

from motobox.aws.moto_app import cors_options
from motobox.cloud import Cloud


def test_the_cors_options_are_those_of_motos_own_app() -> None:
    from flask_cors.core import get_cors_options
    from moto.moto_server.werkzeug_app import create_backend_app

    for service in ("sts", "s3", "sqs"):
        assert cors_options() == get_cors_options(create_backend_app(service))


def test_an_answer_to_a_call_from_a_browser_origin_carries_the_cors_headers() -> None:
    with Cloud() as cloud:
        request = urllib.request.Request(
            cloud.endpoint_url + "/",
            data=b"Action=GetCallerIdentity&Version=2011-06-15",
            headers={
                "Origin": "https://console.example",
                "Authorization": "AWS4-HMAC-SHA256 Credential=MOTOBOX123456789012/20240101/"
                "us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0",
            },
        )
        with urllib.request.urlopen(request) as answer:
            assert answer.status == 200
            # flask_cors echoes the origin (its defaults: any origin, no wildcard sent)
            assert answer.headers["Access-Control-Allow-Origin"] == "https://console.example"
