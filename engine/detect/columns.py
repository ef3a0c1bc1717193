"""Append-only columns of a session book's per-line data, held in fixed-size chunks.

A big file's session holds a template key and a line number for each of millions of lines. A Python list
costs 8 bytes a key (a pointer) and, like an `array`, grows by reallocation: every growth copies the whole
block, and on glibc the freed copies of blocks this size stay resident in the heap (a 300 MB log's sessions
left ~90 MB of freed copies behind). Here the data sits in chunks of CHUNK items that are never reallocated:
4 bytes a line number, 4 bytes a key (its index in a `KeyTable` of the few distinct keys, shared by all the
sessions of a book, so that a file of many short sessions pays little for each).

What this leaves out: what the data means (`engine.detect.pipeline.SessionBook`, `engine.logs.sessions`).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import overload

CHUNK = 1 << 16  # items a chunk: 256 KB of 4-byte items


class IntColumn:
    """Ints appended in order, read by index or slice (a slice is a list); `typecode` as for `array`."""

    __slots__ = ("_chunks", "_len", "typecode")

    def __init__(self, typecode: str = "I", items: Iterable[int] = ()) -> None:
        self.typecode = typecode
        self._chunks: tuple[array[int], ...] = ()  # a tuple: 40 bytes less than a list in each short session
        self._len = 0
        self.extend(items)

    def __len__(self) -> int:
        return self._len

    def append(self, item: int) -> None:
        self.extend((item,))

    def extend(self, items: Iterable[int]) -> None:
        it = iter(items)
        while True:
            if not self._chunks or len(self._chunks[-1]) == CHUNK:
                self._chunks = (*self._chunks, array(self.typecode))
            last = self._chunks[-1]
            before = len(last)
            last.extend(islice(it, CHUNK - before))
            self._len += len(last) - before
            if len(last) < CHUNK:  # the items ran out
                return

    @overload
    def __getitem__(self, i: int) -> int: ...
    @overload
    def __getitem__(self, i: slice) -> list[int]: ...
    def __getitem__(self, i: int | slice) -> int | list[int]:
        if isinstance(i, slice):
            start, stop, step = i.indices(self._len)
            if step != 1:
                return [self._chunks[j // CHUNK][j % CHUNK] for j in range(start, stop, step)]
            return self._span(start, stop)
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError("column index out of range")
        return self._chunks[i // CHUNK][i % CHUNK]

    def _span(self, start: int, stop: int) -> list[int]:
        found: list[int] = []
        while start < stop:
            chunk, at = divmod(start, CHUNK)
            end = min(stop - start, CHUNK - at)
            found.extend(self._chunks[chunk][at : at + end])
            start += end
        return found

    def __iter__(self) -> Iterator[int]:
        return chain.from_iterable(self._chunks)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (IntColumn, Sequence)) and len(self) == len(other) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"IntColumn({self.typecode!r}, {len(self)} items)"


class KeyTable:
    """The distinct keys of some key columns, each with its index (its code)."""

    __slots__ = ("code_of", "names")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.code_of: dict[str, int] = {}

    def code(self, key: str) -> int:
        code = self.code_of.get(key)
        if code is None:
            code = self.code_of[key] = len(self.names)
            self.names.append(key)
        return code


class KeyColumn(IntColumn):
    """Template keys appended in order, each held as its code in a `KeyTable` (its own, or one shared): an
    `IntColumn` of codes that reads as the keys."""

    __slots__ = ("table",)

    def __init__(self, keys: Iterable[str] = (), table: KeyTable | None = None) -> None:
        self.table = table or KeyTable()
        super().__init__("i")
        self.extend(keys)

    @property
    def names(self) -> list[str]:
        return self.table.names

    def append(self, key: str) -> None:  # type: ignore[override]
        self.extend((key,))

    def extend(self, keys: Iterable[str]) -> None:  # type: ignore[override]
        code_of, code = self.table.code_of, self.table.code
        super().extend(code_of[k] if k in code_of else code(k) for k in keys)

    @overload  # type: ignore[override]
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        names = self.table.names
        if isinstance(i, slice):
            return [names[c] for c in super().__getitem__(i)]
        return names[super().__getitem__(i)]

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return map(self.table.names.__getitem__, super().__iter__())

    def __repr__(self) -> str:
        return f"KeyColumn({len(self)} keys, {len(self.names)} distinct)"
