"""moto's service handlers called without Flask (``motobox.aws.moto_app``) answer as moto's
Flask apps do: the CORS headers flask_cors adds to every answer come from the same options."""

from __future__ import annotations

from typing import Any

from motobox.aws.moto_app import cors_options
from motobox.cloud import Cloud


def test_the_cors_options_are_those_of_motos_own_app() -> None:
    from flask_cors.core import get_cors_options
    from moto.moto_server.werkzeug_app import create_backend_app

    for service in ("sts", "s3", "sqs"):
        assert cors_options() == get_cors_options(create_backend_app(service))


def test_an_answer_to_a_call_from_a_browser_origin_carries_the_cors_headers() -> None:
    with Cloud() as cloud:
        sts = cloud.client("sts")

        def add_origin(request: Any, **_: Any) -> None:
            request.headers["Origin"] = "https://console.example"

        sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_origin)
        headers = sts.get_caller_identity()["ResponseMetadata"]["HTTPHeaders"]
        # flask_cors echoes the origin (its defaults: any origin, no wildcard sent)
        assert headers["access-control-allow-origin"] == "https://console.example"
