"""Writing a downloaded file safely: to a temporary name, renamed when complete.

A failed or interrupted download leaves nothing behind, and never a partial
file under the final name.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO
from urllib.parse import unquote, urlsplit

from ._errors import InvalidRequestError

__all__ = ["FileSink"]

_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation
_SUFFIXES = {"image/png": ".png", "application/pdf": ".pdf"}
_MAX_NAME = 120


class FileSink:
    """Where a download goes: ``destination`` itself, or a file inside it if it is a directory.

    In a directory the file is named after the URL's last path segment, with
    ``.png`` / ``.pdf`` added from the content type when it has no suffix.
    """

    def __init__(self, destination: str | os.PathLike[str], url: str) -> None:
        if not isinstance(destination, (str, os.PathLike)):
            raise InvalidRequestError(
                f"destination must be a path, not {type(destination).__name__}"
            )
        path = Path(destination)
        if "\x00" in str(path):
            raise InvalidRequestError("destination must not contain a NUL character")
        self._into_directory = path.is_dir()
        directory = path if self._into_directory else path.parent
        if not directory.is_dir():
            raise InvalidRequestError(f"destination directory does not exist: {directory}")
        self._directory = directory
        self._path = path
        self._url_name = _name_from_url(url)
        self._temp: Path | None = None
        self._file: IO[bytes] | None = None
        self._content_type = ""

    def open(self, content_type: str | None) -> FileSink:
        """Start a fresh temporary file (a retry starts over)."""
        self.discard()
        self._content_type = (content_type or "").split(";")[0].strip().lower()
        # Not tempfile.mkstemp: its 0600 mode would survive the rename. 0666
        # here lets the user's umask decide, as for any file they write.
        path = self._directory / f".ticketpulse-{os.urandom(8).hex()}.part"
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
        except OSError as exc:
            raise InvalidRequestError(
                f"cannot write into {self._directory}: {exc.strerror or exc}"
            ) from None
        self._temp = path
        self._file = os.fdopen(handle, "wb")
        return self

    def write(self, chunk: bytes) -> None:
        assert self._file is not None
        try:
            self._file.write(chunk)
        except OSError as exc:
            raise InvalidRequestError(f"cannot write the download: {exc.strerror or exc}") from None

    def close(self) -> None:
        """The file is complete: close it (commit() then gives it its name)."""
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.close()
            except OSError as exc:
                raise InvalidRequestError(
                    f"cannot write the download: {exc.strerror or exc}"
                ) from None

    def __enter__(self) -> FileSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if exc_type is not None:
            self.discard()

    def commit(self) -> Path:
        """Move the complete file to its final name and return that path."""
        if self._temp is None:
            raise RuntimeError("nothing was downloaded")
        target = self._target()
        try:
            os.replace(self._temp, target)
        except OSError as exc:
            raise InvalidRequestError(
                f"cannot save the download as {target}: {exc.strerror or exc}"
            ) from None
        self._temp = None
        return target

    def discard(self) -> None:
        """Remove the temporary file, if any."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)
            self._temp = None

    def _target(self) -> Path:
        if not self._into_directory:
            return self._path
        name = self._url_name
        if not PurePosixPath(name).suffix:
            name += _SUFFIXES.get(self._content_type, "")
        return self._directory / name


def _name_from_url(url: str) -> str:
    # Only the last segment, decoded, stripped of anything that could escape
    # the directory.
    segment = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    name = "".join(c for c in segment if c.isascii() and (c.isalnum() or c in "._-"))
    name = name.lstrip(".")
    if len(name) > _MAX_NAME:  # file systems allow 255 bytes: keep the suffix, cut the stem
        stem, dot, suffix = name.rpartition(".")
        if dot and 0 < len(suffix) <= 8:
            name = stem[: _MAX_NAME - len(suffix) - 1] + "." + suffix
        else:
            name = name[:_MAX_NAME]
    return name or "download"
