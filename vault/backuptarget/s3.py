"""The S3-compatible adapter of the backup-target port (AWS, SeaweedFS, MinIO, Ceph, ...), through boto3.

Atomicity comes from S3 itself: a PUT, or a multipart upload's completion, makes an object appear
whole or not at all. An upload that fails is aborted at once; one whose abort fails too (the service
went away) is kept in `unfinished` for `abort_unfinished` to retry. An upload killed midway leaves an
unfinished multipart upload (invisible to listings, yet stored and paid for), which `clean_leftovers`
aborts at the start of the next run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from vault.backuptarget.errors import TargetError, TargetUnreachable
from vault.backuptarget.port import TargetOptions

PART = 8 * 1024 * 1024  # multipart above this; also the part size (S3's minimum is 5 MiB)
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_MISSING = ("404", "NoSuchKey", "NotFound", "NoSuchBucket")


@dataclass(frozen=True, slots=True)
class S3Address:
    endpoint: str  # http(s)://host[:port]
    bucket: str
    prefix: str  # "" or "some/path/" (always ends with "/")

    @classmethod
    def parse(cls, spec: str) -> S3Address:
        """restic's forms: s3:http://host:port/bucket/prefix, s3:https://..., s3:host/bucket/prefix."""
        rest = spec[len("s3:"):]
        scheme = "https"
        for candidate in ("http", "https"):
            if rest.startswith(candidate + "://"):
                scheme, rest = candidate, rest[len(candidate) + 3:]
        host, _, path = rest.partition("/")
        bucket, _, prefix = path.partition("/")
        prefix = prefix.strip("/")
        if not host or not _BUCKET.match(bucket) or any(p in (".", "..") for p in prefix.split("/")):
            raise TargetError(f"{spec} is not an S3 target: write s3:http://HOST:PORT/BUCKET/PREFIX "
                              "(or s3:HOST/BUCKET/PREFIX for https).")
        return cls(endpoint=f"{scheme}://{host}", bucket=bucket, prefix=prefix + "/" if prefix else "")

    def __str__(self) -> str:
        return f"s3:{self.endpoint}/{self.bucket}/{self.prefix}".rstrip("/")


class S3Target:
    """A bucket (and prefix) on an S3-compatible service."""

    def __init__(self, address: S3Address, client: Any) -> None:
        self.address = address
        self.location = str(address)
        self._client = client
        self.unfinished: list[tuple[str, str]] = []  # (key, upload id) of failed uploads not yet aborted

    @classmethod
    def open(cls, spec: str, options: TargetOptions, *, create: bool) -> S3Target:
        address = S3Address.parse(spec)
        if not options.s3_access_key_id or not options.s3_secret_access_key:
            raise TargetError(f"No S3 keys for {address}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                              "(or STRONGROOM_S3_ACCESS_KEY_ID and STRONGROOM_S3_SECRET_ACCESS_KEY).")
        # Everything is handed in, so boto3 never falls back to its own credential search.
        session = boto3.session.Session(aws_access_key_id=options.s3_access_key_id,
                                        aws_secret_access_key=options.s3_secret_access_key,
                                        region_name=options.s3_region)
        config = Config(s3={"addressing_style": "path"}, connect_timeout=options.timeout_seconds,
                        read_timeout=options.timeout_seconds, retries={"max_attempts": 3, "mode": "standard"},
                        request_checksum_calculation="when_required",
                        response_checksum_validation="when_required")
        target = cls(address, session.client("s3", endpoint_url=address.endpoint, config=config))
        with target._calls("open the bucket"):
            try:
                target._client.head_bucket(Bucket=address.bucket)
            except ClientError as exc:
                if _code(exc) not in _MISSING:
                    raise
                if not create:
                    raise TargetError(f"The bucket {address.bucket} does not exist at {address.endpoint}: "
                                      "check the target's address.") from None
                target._client.create_bucket(Bucket=address.bucket)
        return target

    def list(self) -> dict[str, int]:
        found: dict[str, int] = {}
        with self._calls("list the backup"):
            pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.address.bucket,
                                                                          Prefix=self.address.prefix)
            for page in pages:
                for item in page.get("Contents", ()):
                    found[str(item["Key"])[len(self.address.prefix):]] = int(item["Size"])
        return found

    def stat(self, name: str) -> int | None:
        with self._calls(f"look at {name}"):
            try:
                head = self._client.head_object(Bucket=self.address.bucket, Key=self._key(name))
            except ClientError as exc:
                if _code(exc) in _MISSING:
                    return None
                raise
        return int(head["ContentLength"])

    def put(self, name: str, source: BinaryIO) -> None:
        key, bucket = self._key(name), self.address.bucket
        with self._calls(f"upload {name}"):
            first = source.read(PART)
            nxt = source.read(PART) if len(first) == PART else b""
            if not nxt:
                self._client.put_object(Bucket=bucket, Key=key, Body=first)
                return
            upload = self._client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
            try:
                parts, number, block = [], 1, first
                while block:
                    sent = self._client.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number,
                                                    Body=block)
                    parts.append({"PartNumber": number, "ETag": sent["ETag"]})
                    number, block = number + 1, nxt
                    nxt = source.read(PART) if nxt else b""
                self._client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                                       MultipartUpload={"Parts": parts})
            except BaseException:
                try:
                    self._client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload)
                except Exception:  # noqa: BLE001 - the upload's own error is the one to report
                    self.unfinished.append((key, upload))
                raise

    def abort_unfinished(self) -> bool:
        """Abort the failed uploads whose abort failed before; True once none is left."""
        while self.unfinished:
            key, upload = self.unfinished[0]
            try:
                self._client.abort_multipart_upload(Bucket=self.address.bucket, Key=key, UploadId=upload)
            except ClientError as exc:
                if _code(exc) not in ("NoSuchUpload", *_MISSING):
                    return False
            except (BotoCoreError, OSError):
                return False
            self.unfinished.pop(0)
        return True

    @contextmanager
    def get(self, name: str) -> Iterator[BinaryIO]:
        with self._calls(f"download {name}"):
            try:
                body = self._client.get_object(Bucket=self.address.bucket, Key=self._key(name))["Body"]
            except ClientError as exc:
                if _code(exc) in _MISSING:
                    raise FileNotFoundError(name) from None
                raise
            try:
                yield cast(BinaryIO, body)
            finally:
                body.close()

    def delete(self, name: str) -> bool:
        if self.stat(name) is None:
            return False
        with self._calls(f"delete {name}"):
            self._client.delete_object(Bucket=self.address.bucket, Key=self._key(name))
        return True

    def clean_leftovers(self, only: Callable[[str], bool] | None = None) -> int:
        """Abort every unfinished multipart upload under the prefix (with `only`, those whose name,
        relative to the prefix, it accepts); how many."""
        aborted = 0
        with self._calls("tidy unfinished uploads"):
            pages = self._client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.address.bucket, Prefix=self.address.prefix)
            for page in pages:
                for upload in page.get("Uploads", ()):
                    if only is not None and not only(str(upload["Key"])[len(self.address.prefix):]):
                        continue
                    self._client.abort_multipart_upload(Bucket=self.address.bucket, Key=upload["Key"],
                                                        UploadId=upload["UploadId"])
                    aborted += 1
        return aborted

    def close(self) -> None:
        self._client.close()

    def _key(self, name: str) -> str:
        if not name or any(p in ("", ".", "..") for p in name.split("/")):
            raise ValueError(f"not a backup name: {name!r}")
        return self.address.prefix + name

    @contextmanager
    def _calls(self, doing: str) -> Iterator[None]:
        """botocore's errors as one sentence naming the target (never the keys)."""
        try:
            yield
        except EndpointConnectionError:
            raise TargetUnreachable(f"The S3 service at {self.address.endpoint} did not answer while trying to "
                                    f"{doing}: check that it runs and the address is right, then try again.") from None
        except ClientError as exc:
            code = _code(exc)
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403"):
                raise TargetError(f"The S3 service at {self.address.endpoint} refused the keys ({code}) while "
                                  f"trying to {doing}: check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and "
                                  "the bucket's rights.") from None
            raise TargetError(f"The S3 service at {self.address.endpoint} refused to {doing} ({code}): "
                              "check the bucket and try again.") from None
        except BotoCoreError as exc:
            raise TargetUnreachable(f"The S3 transfer to {self.address.endpoint} failed while trying to "
                                    f"{doing} ({type(exc).__name__}): try again.") from None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "?"))
