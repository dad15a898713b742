"""Where files are kept: local disk by default, S3-compatible storage when a bucket is named.

Settings are read once per process, so the switch is checked in a fresh
Python process with the environment set; nothing connects anywhere (the S3
client is created lazily, on the first read or write).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

PROBE = """
import json, django
django.setup()
from django.core.files.storage import default_storage
default_storage.exists  # force the lazy object to be built
storage = default_storage._wrapped
print(json.dumps({
    "class": f"{type(storage).__module__}.{type(storage).__name__}",
    "bucket": getattr(storage, "bucket_name", None),
    "endpoint": getattr(storage, "endpoint_url", None),
    "location": getattr(storage, "location", None),
    "acl": getattr(storage, "default_acl", "n/a"),
    "overwrite": getattr(storage, "file_overwrite", None),
}))
"""


def storage_with(**environment: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dhanwantari.settings",
        "SECRET_KEY": "storage-probe",
        "DEBUG": "false",
        **environment,
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_files_are_kept_on_local_disk_when_no_bucket_is_named():
    assert storage_with(AWS_STORAGE_BUCKET_NAME="")["class"] == "django.core.files.storage.filesystem.FileSystemStorage"


def test_naming_a_bucket_switches_to_private_s3_storage():
    found = storage_with(
        AWS_STORAGE_BUCKET_NAME="dhanwantari-records",
        AWS_S3_ENDPOINT_URL="https://objects.example.test",
        AWS_LOCATION="media",
    )

    assert found["class"] == "storages.backends.s3.S3Storage"
    assert (found["bucket"], found["endpoint"], found["location"]) == (
        "dhanwantari-records",
        "https://objects.example.test",
        "media",
    )
    assert found["acl"] is None  # the bucket's own (private) policy, never public-read
    assert found["overwrite"] is False
