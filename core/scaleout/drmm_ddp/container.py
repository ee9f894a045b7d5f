"""The engine's checkpoint container (core/train/checkpoint.h), read and written byte for byte.

Layout, little-endian: 8 bytes magic "DRMMCKPT", u32 version, u32 header length H, H bytes of
JSON {"meta": {...}, "tensors": [{"name": s, "shape": [n, c, h, w]}, ...]}, float32 values of
each tensor in header order, u32 CRC-32 (zlib) of every byte before it. Written atomically
(temporary file in the same folder, fsync, rename), as the engine does, so a reader (the
studio watching a folder) never sees half a file.
"""
import json
import os
import struct
import zlib

import numpy as np

MAGIC = b"DRMMCKPT"
VERSION = 1


class ContainerError(Exception):
    """A file that is not a valid container; the message names the file and the problem."""


def write(path, meta, arrays):
    """arrays: (name, array) pairs; each array is stored as float32 with a 4-D shape."""
    tensors, blobs = [], []
    for name, array in arrays:
        values = np.ascontiguousarray(array, dtype="<f4")
        if values.ndim != 4:
            raise ValueError(f"{path}: tensor '{name}' has shape {values.shape}, not [n, c, h, w]")
        tensors.append({"name": name, "shape": [int(d) for d in values.shape]})
        blobs.append(values.tobytes())
    header = json.dumps({"meta": meta, "tensors": tensors}, separators=(",", ":"), allow_nan=False).encode()
    body = b"".join([MAGIC, struct.pack("<II", VERSION, len(header)), header] + blobs)
    write_atomically(path, body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF))


def write_atomically(path, data):
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, f".{os.path.basename(path)}.tmp-{os.getpid()}")
    try:
        with open(temporary, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def read(path):
    """Returns (meta, {name: float32 array}) in header order; ContainerError on a bad file."""
    with open(path, "rb") as f:
        data = f.read()
    fixed = len(MAGIC) + 8
    if len(data) < fixed + 4:
        raise ContainerError(f"{path}: truncated ({len(data)} bytes)")
    if data[:8] != MAGIC:
        raise ContainerError(f"{path}: not a DRMM checkpoint (bad magic)")
    version, header_length = struct.unpack_from("<II", data, 8)
    if version != VERSION:
        raise ContainerError(f"{path}: unsupported version {version} (this reads {VERSION})")
    if header_length > len(data) - fixed - 4:
        raise ContainerError(f"{path}: truncated: the header claims more bytes than the file holds")
    if struct.unpack_from("<I", data, len(data) - 4)[0] != zlib.crc32(data[:-4]) & 0xFFFFFFFF:
        raise ContainerError(f"{path}: checksum mismatch: the file is corrupted")
    try:
        header = json.loads(data[fixed:fixed + header_length])
        meta, offset, arrays = header["meta"], fixed + header_length, {}
        for t in header["tensors"]:
            shape = tuple(int(d) for d in t["shape"])
            count = int(np.prod(shape))
            if offset + 4 * count > len(data) - 4:
                raise ContainerError(f"{path}: tensor '{t['name']}' extends past the end of the file")
            arrays[t["name"]] = np.frombuffer(data, dtype="<f4", count=count, offset=offset).reshape(shape)
            offset += 4 * count
    except (KeyError, TypeError, ValueError) as e:
        raise ContainerError(f"{path}: header is not valid: {e}") from e
    if offset != len(data) - 4:
        raise ContainerError(f"{path}: data after its last tensor")
    return meta, arrays
