"""kvsearch's terms file: the sorted keys and values of a segment's terms (schema 6).

Whoosh keeps a segment's terms (the key: a 2-byte field number and the term's bytes; the
value: its term info) in an OrderedHashWriter file, which spends about 36 bytes per term
on top of the keys and values: an 8-byte length header per entry, 256 hash tables of
12-byte (hash, position) slots at load 0.5 and a 2- or 4-byte position per entry for
ordered look-ups. That was nearly half of the terms files (82 MB at 90,000 documents).
This file holds the same in about 8 bytes per entry:

    MAGIC
    entries      varint(len(key)) varint(len(value)) key value, in increasing key order
    hash table   slots of 4 bytes (8 in a file whose entries end past 2**28), little-endian:
                 the entry's offset << tag bits | the low tag bits of the key's CRC-32, or
                 0 for an empty slot (no entry starts at 0: the magic is there)
    sparse index the offset of every SPARSE_STEP-th entry (4 bytes, 8 past 4 GB)
    extras       JSON (Whoosh's terms file keeps its field map there)
    trailer      :data:`_TRAILER`, ending with MAGIC

The hash table is linear probing without wrap-around (the table grows past its home
slots as far as the last run needs, then :data:`PROBE_SLOTS` empty ones), at load
:data:`LOAD`. A key's home slot is ``crc32(key) * home_slots >> 32``: zlib's CRC-32 is a C
function of the key's bytes, the same in every process (Python's ``hash()`` of bytes is
salted) and several times faster than Whoosh's MD5. The tag bits in a slot make a probe
past another key's slot cost nothing: only a slot whose tag matches (1 in 256 otherwise)
has its entry read and compared. Probing reads :data:`PROBE_SLOTS` slots at a time, so a
look-up reads the file twice (slots, entry) when the key is there and once when not,
where Whoosh's reads one slot at a time, then the entry's lengths, key and value apart.

Ordered look-ups (``items_from``, cursors) binary-search the sparse index, reading the
keys it points to, then scan at most SPARSE_STEP entries. Nothing is read at open but the
trailer and the extras: a search opens every segment, and this costs it next to nothing.

Reading goes through a function ``read(position, size)`` that returns up to ``size`` bytes
at ``position`` of the file (more may follow the file's end; they are never used), so
that the reader works on a memory map, on a part of a compound file read with
``os.pread`` or on any file object (``kvsearch.schema`` picks the fastest for Whoosh's
file objects).
"""

from __future__ import annotations

import json
import math
import struct
import sys
from array import array
from collections.abc import Callable, Iterator, Sequence
from itertools import accumulate, chain, count, islice
from operator import add, lt, sub
from typing import Any
from zlib import crc32

from kvsearch.errors import IndexCorruptError

MAGIC = b"KVT1"
#: Entries per home slot of the hash table: a key that is there is found on average
#: 2.2 slots from its home, a key that is not after 6 (all in one read of PROBE_SLOTS).
LOAD = 0.7
#: The sparse index holds the offset of every this many entries.
SPARSE_STEP = 16
#: Slots read at once when probing; the table ends with as many empty slots.
PROBE_SLOTS = 32
#: Tag bits in a slot, at most; fewer when the offsets need them (a 4-byte slot holds
#: both up to offsets of 2**28, with 4 tag bits or more), never fewer than 4.
TAG_BITS = 8
#: The 4-byte slots' offsets end here; a file whose entries go further has 8-byte slots.
WIDE_SLOTS_FROM = 1 << (32 - 4)
#: Entry count, hash table position, home slots, all slots, sparse index position, extras
#: position, slot size, tag bits, sparse index entry size, sparse step, MAGIC.
_TRAILER = struct.Struct("<QQQQQQBBBB4s")
_ENTRY_READ = 64  # bytes read past a key to find its value: most values are shorter
#: Bytes read at a time when scanning entries in order: at first a few entries' worth
#: (a seek scans at most SPARSE_STEP entries; a prefix's terms are often few), then
#: doubling up to the last.
_SCAN_READS = (1 << 11, 1 << 12, 1 << 13, 1 << 14, 1 << 15, 1 << 16)
#: Keys of the sparse index kept once read: the first nine steps of every binary search.
_SPARSE_CACHE = 1 << 9
_HEADER_MAX = 20  # two varints of up to 64 bits
_SMALL = [bytes((n,)) for n in range(128)]


def _varint(n: int) -> bytes:
    """``n`` as an unsigned LEB128 varint (7 bits a byte, the low bits first)."""
    if n < 0x80:
        return _SMALL[n]
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _header(key_length: int, value_length: int) -> bytes:
    return _varint(key_length) + _varint(value_length)


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    """The varint at ``data[i]`` and the index after it."""
    n = shift = 0
    while True:
        byte = data[i]
        i += 1
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            return n, i
        shift += 7


def _lengths(data: bytes, i: int) -> tuple[int, int, int]:
    """Key length, value length and the key's index of the entry at ``data[i]``."""
    k = data[i]
    v = data[i + 1]
    if (k | v) < 0x80:  # nearly every entry: both lengths under 128
        return k, v, i + 2
    k, i = _read_varint(data, i)
    v, i = _read_varint(data, i)
    return k, v, i


def slot_layout(data_end: int) -> tuple[int, int]:
    """Slot size in bytes and tag bits of a file whose entries end at ``data_end``."""
    bits = data_end.bit_length()
    if data_end < WIDE_SLOTS_FROM:
        return 4, min(TAG_BITS, 32 - bits)
    return 8, min(TAG_BITS, 64 - bits)


def _slot_index(hashes: Sequence[int], home: int) -> tuple[list[int], list[int]]:
    """The order of entries by home slot, and the slot of each in that order.

    Linear probing without wrap-around fills the same slots whatever the order of
    insertion; inserting in order of home slot, entry k (of that order) takes slot
    ``max(home_k, slot_{k-1} + 1)``, that is ``k + max(home_j - j for j <= k)``: C-level
    ``accumulate`` instead of a probing loop in Python."""
    homes = [(h * home) >> 32 for h in hashes]
    order = sorted(range(len(homes)), key=homes.__getitem__)
    in_order = map(homes.__getitem__, order)
    slots = list(map(add, accumulate(map(sub, in_order, count()), max), count()))
    return order, slots


class TermsFileWriter:
    """Writes a terms file. Keys must be added in increasing order, each once.

    ``extras`` (JSON-serialisable) is written when the file is closed; Whoosh's field
    writer keeps the field map there, as in its own terms file."""

    def __init__(self, dbfile: Any) -> None:
        self.dbfile = dbfile
        self.extras: dict[str, Any] = {}
        dbfile.write(MAGIC)
        self._pos = len(MAGIC)  # where the next entry goes
        self._offsets = array("Q")
        self._hashes = array("I")
        self.lastkey: bytes | None = None

    def add(self, key: bytes, value: bytes) -> None:
        """One entry (Whoosh's field writer adds the terms one at a time)."""
        if self.lastkey is not None and key <= self.lastkey:
            raise ValueError(f"Keys must increase: {self.lastkey!r}..{key!r}")
        entry = _header(len(key), len(value)) + key + value
        self.dbfile.write(entry)
        self._offsets.append(self._pos)
        self._hashes.append(crc32(key))
        self._pos += len(entry)
        self.lastkey = key

    def add_all(self, keys: Sequence[bytes], values: Sequence[bytes]) -> None:
        """The entries of ``keys`` and ``values`` in one write: kvsearch's bulk writer
        adds all terms of a field at once (a million at 90,000 documents), so each step
        here is a C-level pass over them."""
        if len(keys) != len(values):
            raise ValueError("as many keys as values")
        if not keys:
            return
        if (self.lastkey is not None and keys[0] <= self.lastkey) or not all(
            map(lt, keys, islice(keys, 1, None))
        ):
            raise ValueError("Keys must increase")
        key_lengths = list(map(len, keys))
        value_lengths = list(map(len, values))
        if max(key_lengths) < 0x80 and max(value_lengths) < 0x80:
            headers = list(map(bytes, zip(key_lengths, value_lengths, strict=True)))
        else:
            headers = list(map(_header, key_lengths, value_lengths))
        sizes = map(add, map(len, headers), map(add, key_lengths, value_lengths))
        offsets = list(accumulate(sizes, initial=self._pos))
        self._pos = offsets.pop()
        self._offsets.extend(offsets)
        self._hashes.extend(map(crc32, keys))
        self.dbfile.write(b"".join(chain.from_iterable(zip(headers, keys, values, strict=True))))
        self.lastkey = keys[-1]

    def close(self) -> int:
        """Write the hash table, the sparse index, the extras and the trailer, close the
        file; return its length."""
        dbfile = self.dbfile
        n = len(self._offsets)
        data_end = self._pos
        slot_size, tag_bits = slot_layout(data_end)
        home = max(1, math.ceil(n / LOAD))
        order, slots = _slot_index(self._hashes, home)
        table = array("I" if slot_size == 4 else "Q", bytes(slot_size)) * (
            max(home, slots[-1] + 1 if slots else 0) + PROBE_SLOTS
        )
        assert table.itemsize == slot_size
        offsets, hashes, mask = self._offsets, self._hashes, (1 << tag_bits) - 1
        for slot, i in zip(slots, order, strict=True):
            table[slot] = offsets[i] << tag_bits | hashes[i] & mask
        sparse = array("I" if data_end <= 0xFFFFFFFF else "Q", offsets[::SPARSE_STEP])
        extras = json.dumps(self.extras, sort_keys=True, separators=(",", ":")).encode()
        if sys.byteorder == "big":
            table.byteswap()
            sparse.byteswap()
        table_pos = data_end
        sparse_pos = table_pos + len(table) * slot_size
        extras_pos = sparse_pos + len(sparse) * sparse.itemsize
        trailer = _TRAILER.pack(
            n,
            table_pos,
            home,
            len(table),
            sparse_pos,
            extras_pos,
            slot_size,
            tag_bits,
            sparse.itemsize,
            SPARSE_STEP,
            MAGIC,
        )
        dbfile.write(table.tobytes() + sparse.tobytes() + extras + trailer)
        dbfile.close()
        return extras_pos + len(extras) + len(trailer)


class TermsFileReader:
    """Reads a terms file of ``length`` bytes through ``read(position, size)`` (see the
    module's docstring); ``close`` is called by :meth:`close`."""

    def __init__(
        self,
        read: Callable[[int, int], bytes],
        length: int,
        close: Callable[[], None] | None = None,
    ) -> None:
        self._read = read
        self._close = close
        self.is_closed = False
        if length < len(MAGIC) + _TRAILER.size or read(0, len(MAGIC)) != MAGIC:
            raise IndexCorruptError("not a kvsearch terms file")
        (
            self._count,
            self._table,
            self._home,
            self._slots,
            self._sparse,
            extras_pos,
            self._slot_size,
            self._tag_bits,
            self._sparse_size,
            self._step,
            magic,
        ) = _TRAILER.unpack(read(length - _TRAILER.size, _TRAILER.size))
        end = length - _TRAILER.size
        if magic != MAGIC or not (
            len(MAGIC) <= self._table <= self._sparse <= extras_pos <= end
            and self._slot_size in (4, 8)
            and self._sparse_size in (4, 8)
            and self._step > 0
            and self._home > 0
        ):
            raise IndexCorruptError("a kvsearch terms file's trailer is damaged")
        self.extras: dict[str, Any] = json.loads(read(extras_pos, end - extras_pos))
        self._tag_mask = (1 << self._tag_bits) - 1
        code = "I" if self._slot_size == 4 else "Q"
        self._probe = struct.Struct(f"<{PROBE_SLOTS}{code}").unpack
        self._probe_size = PROBE_SLOTS * self._slot_size
        self._table_end = self._table + self._slots * self._slot_size
        self._sparse_count = -(-self._count // self._step)
        self._sparse_keys: dict[int, tuple[bytes, int]] = {}

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        if self.is_closed:
            raise ValueError(f"Tried to close {self!r} twice")
        self.is_closed = True
        if self._close is not None:
            self._close()

    # ------------------------------------------------------------ look-ups by key

    def get(self, key: bytes, default: Any = None) -> Any:
        """The value of ``key``, or ``default``."""
        h = crc32(key)
        size = self._slot_size
        pos = self._table + ((h * self._home) >> 32) * size
        mask = self._tag_mask
        tag = h & mask
        shift = self._tag_bits
        read = self._read
        probe = self._probe
        step = self._probe_size
        n = len(key)
        while True:
            for slot in probe(read(pos, step)):
                if not slot:
                    return default
                if slot & mask == tag:
                    offset = slot >> shift
                    data = read(offset, n + _ENTRY_READ)
                    k, v, i = _lengths(data, 0)
                    if k == n and data[i : i + n] == key:
                        i += n
                        if i + v <= len(data):
                            return data[i : i + v]
                        return read(offset + i, v)
            pos += step
            if pos + step > self._table_end:  # a damaged file (the table ends empty)
                return default

    def __getitem__(self, key: bytes) -> bytes:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: bytes) -> bool:
        return self.get(key) is not None

    # ------------------------------------------------------------ ordered reading

    def entry_at(self, pos: int) -> tuple[bytes, bytes, int] | None:
        """The key and value of the entry at ``pos`` and the position of the next, or
        None at the end of the entries."""
        if pos >= self._table:
            return None
        data = self._read(pos, _ENTRY_READ * 2)
        k, v, i = _lengths(data, 0)
        stop = i + k + v
        if stop > len(data):
            data = self._read(pos, stop)
        return data[i : i + k], data[i + k : stop], pos + stop

    def _sparse_key(self, index: int) -> tuple[bytes, int]:
        """The key of the ``index``-th entry of the sparse index, and its position."""
        found = self._sparse_keys.get(index)
        if found is not None:
            return found
        size = self._sparse_size
        pos = int.from_bytes(self._read(self._sparse + index * size, size), "little")
        data = self._read(pos, _ENTRY_READ)
        k, _v, i = _lengths(data, 0)
        if i + k > len(data):
            data = self._read(pos, i + k)
        found = data[i : i + k], pos
        if len(self._sparse_keys) < _SPARSE_CACHE:
            self._sparse_keys[index] = found
        return found

    def _block(self, key: bytes) -> int:
        """The position of the sparse index's last entry before ``key`` (the first entry
        when none is), where a scan for ``key`` starts."""
        lo, hi = 0, self._sparse_count
        while lo < hi:  # the number of sparse entries whose keys are less than key
            mid = (lo + hi) // 2
            if self._sparse_key(mid)[0] < key:
                lo = mid + 1
            else:
                hi = mid
        return self._sparse_key(lo - 1)[1] if lo else len(MAGIC)

    def seek(self, key: bytes) -> int:
        """The position of the first entry whose key is ``key`` or greater (the end of
        the entries when there is none)."""
        for pos, found, _value in self._scan(self._block(key)):
            if found >= key:
                return pos
        return self._table

    def _scan(self, pos: int) -> Iterator[tuple[int, bytes, bytes]]:
        """Position, key and value of the entries from ``pos`` on, in order, read
        :data:`_SCAN_READ` bytes at a time."""
        read, end = self._read, self._table
        reads = iter(_SCAN_READS)
        chunk = 0
        while pos < end:
            chunk = next(reads, chunk)
            size = min(chunk, end - pos)
            data = read(pos, size)
            # Past ``limit`` an entry's header may run beyond the bytes read.
            limit = size - _HEADER_MAX if pos + size < end else size
            i = 0
            while i < size and i <= limit:
                k, v, j = _lengths(data, i)
                stop = j + k + v
                if stop > size:
                    if i:
                        break
                    data = read(pos, stop)  # an entry longer than a read
                    size = limit = stop
                yield pos + i, data[j : j + k], data[j + k : stop]
                i = stop
            pos += i

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        return ((key, value) for _pos, key, value in self._scan(len(MAGIC)))

    def keys(self) -> Iterator[bytes]:
        return (key for _pos, key, _value in self._scan(len(MAGIC)))

    def values(self) -> Iterator[bytes]:
        return (value for _pos, _key, value in self._scan(len(MAGIC)))

    def __iter__(self) -> Iterator[bytes]:
        return self.keys()

    def items_from(self, key: bytes) -> Iterator[tuple[bytes, bytes]]:
        """The entries whose keys are ``key`` or greater, in order."""
        entries = self._scan(self._block(key))
        for _pos, found, value in entries:
            if found >= key:
                yield found, value
                break
        for _pos, found, value in entries:
            yield found, value

    def keys_from(self, key: bytes) -> Iterator[bytes]:
        return (found for found, _value in self.items_from(key))
