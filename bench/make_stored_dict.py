"""Write kvsearch/stored.zdict, the zlib preset dictionary of the stored documents.

    python bench/make_stored_dict.py

The dictionary is the last 32 KiB of the stored form (``kvsearch.schema.pack``, compact
JSON) of the sample Kamervragen in kvsearch/sample, one after the other: JSON keys,
ministry names, the phrases every question and answer repeats. zlib uses it as if it
came before each document, so a document's first occurrence of those strings costs a
back-reference instead of its letters.

A new dictionary makes indexes written with the old one unreadable: record its Adler-32
in ``kvsearch.schema.STORED_DICT_ADLER32`` and bump ``SCHEMA_VERSION`` (a test checks the
first).
"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZE = 32 * 1024  # zlib's window: a longer dictionary is never referenced


def main() -> None:
    sys.path.insert(0, str(REPO))
    from kvsearch.parse import parse_text
    from kvsearch.schema import pack

    parts = []
    for path in sorted((REPO / "kvsearch" / "sample").glob("*.txt")):
        kv = parse_text(path.read_text(encoding="utf-8"), path.name)
        parts.append(pack(kv, compress=False))
    data = b"".join(parts)[-SIZE:]
    out = REPO / "kvsearch" / "stored.zdict"
    out.write_bytes(data)
    print(f"{out}: {len(data)} bytes, Adler-32 0x{zlib.adler32(data):08x}")


if __name__ == "__main__":
    main()
