"""A minimal .vox writer for the tests (written from the format description, independent of the parser)."""

import struct


def chunk(chunk_id, content=b"", children=b""):
    """One chunk: id, content size, children size, content, children."""
    return chunk_id + struct.pack("<ii", len(content), len(children)) + content + children


def vstring(text):
    """A STRING: int32 length and bytes."""
    raw = text.encode("utf-8")
    return struct.pack("<i", len(raw)) + raw


def vdict(values):
    """A DICT: int32 count and key/value STRINGs."""
    out = struct.pack("<i", len(values))
    for key, value in values.items():
        out += vstring(key) + vstring(str(value))
    return out


def size_chunk(size):
    """SIZE chunk."""
    return chunk(b"SIZE", struct.pack("<iii", *size))


def xyzi_chunk(voxels):
    """XYZI chunk from (x, y, z, colour index) tuples."""
    return chunk(b"XYZI", struct.pack("<i", len(voxels)) + b"".join(bytes(v) for v in voxels))


def rgba_chunk(colors):
    """RGBA chunk from a list of colours for colour indices 1..255 (the 256th entry is written as zero)."""
    raw = b"".join(bytes(c) for c in colors[:255])
    raw += bytes(4 * (256 - len(colors[:255])))
    return chunk(b"RGBA", raw)


def encode_rotation(matrix):
    """The packed rotation byte of a signed permutation matrix given as rows."""
    first = next(c for c in range(3) if matrix[0][c])
    second = next(c for c in range(3) if matrix[1][c])
    third = next(c for c in range(3) if matrix[2][c])
    byte = first | (second << 2)
    for row, column in enumerate((first, second, third)):
        if matrix[row][column] < 0:
            byte |= 1 << (4 + row)
    return byte


def ntrn_chunk(node_id, child, layer=-1, attrs=None, rotation=None, translation=None):
    """nTRN chunk with one frame."""
    frame = {}
    if rotation is not None:
        frame["_r"] = encode_rotation(rotation)
    if translation is not None:
        frame["_t"] = " ".join(str(v) for v in translation)
    body = struct.pack("<i", node_id) + vdict(attrs or {}) + struct.pack("<iiii", child, -1, layer, 1) + vdict(frame)
    return chunk(b"nTRN", body)


def ngrp_chunk(node_id, children, attrs=None):
    """nGRP chunk."""
    body = struct.pack("<i", node_id) + vdict(attrs or {}) + struct.pack("<i", len(children))
    body += b"".join(struct.pack("<i", c) for c in children)
    return chunk(b"nGRP", body)


def nshp_chunk(node_id, model_ids, attrs=None):
    """nSHP chunk."""
    body = struct.pack("<i", node_id) + vdict(attrs or {}) + struct.pack("<i", len(model_ids))
    body += b"".join(struct.pack("<i", m) + vdict({}) for m in model_ids)
    return chunk(b"nSHP", body)


def layr_chunk(layer_id, name, hidden=False):
    """LAYR chunk."""
    attrs = {"_name": name}
    if hidden:
        attrs["_hidden"] = "1"
    return chunk(b"LAYR", struct.pack("<i", layer_id) + vdict(attrs) + struct.pack("<i", -1))


def matl_chunk(material_id, props):
    """MATL chunk."""
    return chunk(b"MATL", struct.pack("<i", material_id) + vdict(props))


def imap_chunk(order):
    """IMAP chunk from 256 colour indices."""
    return chunk(b"IMAP", bytes(order))


def vox_file(models, version=150, palette=None, extra=()):
    """A whole file: models as (size, voxels), an optional palette (indices 1..255), then extra chunks."""
    body = b""
    for size, voxels in models:
        body += size_chunk(size) + xyzi_chunk(voxels)
    if palette is not None:
        body += rgba_chunk(palette)
    body += b"".join(extra)
    return b"VOX " + struct.pack("<i", version) + chunk(b"MAIN", b"", body)


def scene_chunks(placements, layers=()):
    """A scene graph: root nTRN 0 -> nGRP 1 -> one nTRN + nSHP per placement.

    placements: dicts with model, and optional rotation, translation, layer, name, hidden.
    layers: (layer id, name, hidden) tuples.
    """
    chunks = [ntrn_chunk(0, 1), None]
    children = []
    next_id = 2
    for place in placements:
        attrs = {}
        if place.get("name"):
            attrs["_name"] = place["name"]
        if place.get("hidden"):
            attrs["_hidden"] = "1"
        chunks.append(ntrn_chunk(next_id, next_id + 1, place.get("layer", 0), attrs, place.get("rotation"),
                                 place.get("translation")))
        chunks.append(nshp_chunk(next_id + 1, [place["model"]]))
        children.append(next_id)
        next_id += 2
    chunks[1] = ngrp_chunk(1, children)
    chunks += [layr_chunk(i, name, hidden) for i, name, hidden in layers]
    return chunks
