"""Real failure modes for S3 tests: a TCP proxy that drops a connection on cue, and an S3
server that enforces IAM (so access is really denied)."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config
from mypy_boto3_s3 import S3Client


class DroppingProxy:
    """Forwards 127.0.0.1:port to an upstream, and kills the first connection whose request
    bytes contain ``trigger`` (e.g. ``b"partNumber=2"``): the client sees a reset mid-upload
    and must retry. Every later connection is forwarded untouched."""

    def __init__(self, upstream: tuple[str, int], trigger: bytes) -> None:
        self.upstream = upstream
        self.trigger = trigger
        self.dropped = 0
        self._armed = True
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop.set()
        self._server.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, watch: bool) -> None:
        try:
            while data := src.recv(65536):
                if watch and self.trigger in data:
                    with self._lock:
                        fire, self._armed = self._armed, False
                    if fire:
                        self.dropped += 1
                        for s in (src, dst):
                            s.setsockopt(
                                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                            )
                            s.close()  # RST: the request dies half-sent
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@dataclass(frozen=True)
class LockedS3:
    """An S3 server with IAM enforced, a bucket, and credentials that may not write to it."""

    endpoint: str
    bucket: str
    access_key: str
    secret_key: str

    def client(self) -> S3Client:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )


@contextmanager
def locked_s3(log_dir: Path) -> Iterator[LockedS3]:
    """``moto_server`` in a child process with IAM on after the first three (setup) calls."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
    log = (log_dir / "moto-locked.log").open("wb")
    server = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)], env=env, stdout=log, stderr=log
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"moto_server did not start, see {log.name}") from None
                time.sleep(0.1)
        admin = boto3.session.Session(
            aws_access_key_id="AKIAADMIN0000000",
            aws_secret_access_key="admin-secret",
            region_name="us-east-1",
        )
        iam = admin.client("iam", endpoint_url=endpoint)
        iam.create_user(UserName="publisher")  # unauthenticated call 1
        key = iam.create_access_key(UserName="publisher")["AccessKey"]  # 2
        admin.client(
            "s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"})
        ).create_bucket(Bucket="reel-locked")
        # That was call 3: from here on every call is checked against IAM, and "publisher"
        # has no policy at all.
        yield LockedS3(endpoint, "reel-locked", key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
