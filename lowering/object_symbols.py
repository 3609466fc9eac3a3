"""The symbols an ELF64 object file needs from outside (its undefined global symbols), read
from its symbol table. MCJIT links a symbol it cannot resolve to address 0, and with it every
other relocation of the object: the first call then jumps to 0 (a segfault). The JIT checks an
object's needs against what the process provides before loading it, so a missing helper is a
located error instead."""

from __future__ import annotations

import struct

SHT_SYMTAB = 2
STB_GLOBAL = 1
SHN_UNDEF = 0


def undefined_symbols(object_code: bytes) -> list[str]:
    """The names of the undefined global (not weak) symbols of an ELF64 little-endian
    object, in symbol-table order; [] for anything else (nothing to check)."""
    data = memoryview(object_code)
    if len(data) < 64 or bytes(data[:4]) != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return []
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)
    ]
    names: list[str] = []
    for _, kind, _, _, offset, size, link, _, _, entsize in sections:
        if kind != SHT_SYMTAB or not entsize:
            continue
        strings = sections[link][4]
        for at in range(offset, offset + size, entsize):
            name, info, _, shndx = struct.unpack_from("<IBBH", data, at)
            if name and shndx == SHN_UNDEF and info >> 4 == STB_GLOBAL:
                end = bytes(data[strings + name : strings + name + 256]).split(b"\0", 1)[0]
                names.append(end.decode("ascii", "replace"))
    return names
