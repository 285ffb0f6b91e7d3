"""Reading UTF-8 input files so that a decoding error names the file, line and column.

Python's own message (`'utf-8' codec can't decode byte 0xff in position 12`) names
neither the file nor the line, and the position counts from the start of an internal
read buffer, not of the file. Every reader of corpus or pretraining input opens its
files through `iter_lines` or `read_text`: the happy path is a plain text read; only
when decoding fails is the file read again as bytes to find the first bad byte.
"""
from pathlib import Path
from typing import Iterator, Optional, Tuple, Union

from .records import CorpusError

ENCODING = "utf-8"
PathLike = Union[str, Path]


def locate_invalid_utf8(path: PathLike) -> Optional[Tuple[int, int, int, str]]:
    """(line, column, byte, reason) of the first byte of `path` that is not UTF-8, or None.

    Lines count from 1 and end at `\\n` (a UTF-8 multi-byte sequence never holds that
    byte, so splitting the bytes there is safe); the column counts characters from 1.
    """
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                raw.decode(ENCODING)
            except UnicodeDecodeError as err:
                column = len(raw[: err.start].decode(ENCODING)) + 1
                return number, column, raw[err.start], err.reason
    return None


def utf8_error(path: PathLike, err: UnicodeDecodeError) -> CorpusError:
    """The CorpusError to raise instead of `err`: the file, line and column, and the fix."""
    found = locate_invalid_utf8(path)
    if found is None:  # the bytes decode on a second read: the file changed meanwhile
        return CorpusError(str(path), f"not valid UTF-8 ({err.reason})")
    line, column, byte, reason = found
    return CorpusError(
        f"{path}:{line}",
        f"not valid UTF-8 (byte 0x{byte:02x} at column {column}: {reason}); "
        "save the file as UTF-8 first, e.g. `iconv -f latin1 -t utf-8 IN > OUT` for Latin-1 text",
    )


def iter_lines(path: PathLike, *, newline: Optional[str] = None) -> Iterator[str]:
    """The lines of a UTF-8 text file, streamed, as `open(path, newline=newline)` gives them."""
    with open(path, encoding=ENCODING, newline=newline) as handle:
        try:
            yield from handle
        except UnicodeDecodeError as err:
            raise utf8_error(path, err) from None


def read_text(path: PathLike, *, newline: Optional[str] = None) -> str:
    """The whole of a UTF-8 text file (`newline=""` keeps `\\r`, as offsets into it need)."""
    with open(path, encoding=ENCODING, newline=newline) as handle:
        try:
            return handle.read()
        except UnicodeDecodeError as err:
            raise utf8_error(path, err) from None
