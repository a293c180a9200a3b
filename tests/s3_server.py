"""A local S3-compatible server for tests: moto's server mode on 127.0.0.1, in a thread of the test process."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

# Obviously fake credentials: moto accepts any, and the SDKs need some.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "fake-access-key-id",
    "AWS_SECRET_ACCESS_KEY": "fake-secret-access-key",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def s3_server() -> Iterator[str]:
    """moto on a free port of 127.0.0.1; yields its endpoint URL and stops it afterwards."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def make_bucket(endpoint: str, name: str) -> None:
    """Create a bucket, with the real SDK."""
    import boto3

    boto3.client(
        "s3",
        endpoint_url=endpoint,
        **{k.lower(): v for k, v in AWS_ENV.items() if k != "AWS_DEFAULT_REGION"},
        region_name=AWS_ENV["AWS_DEFAULT_REGION"],
    ).create_bucket(Bucket=name)
