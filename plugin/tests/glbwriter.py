"""A tiny glTF binary writer for the tests: one coloured box, like voxgen's .glb outputs (COLOR_0, Y-up)."""

import json
import struct

FACES = (  # normal axis, sign, colour (linear RGBA)
    (0, 1, (1.0, 0.0, 0.0, 1.0)),
    (0, -1, (0.0, 1.0, 0.0, 1.0)),
    (1, 1, (0.0, 0.0, 1.0, 1.0)),
    (1, -1, (1.0, 1.0, 0.0, 1.0)),
    (2, 1, (0.0, 1.0, 1.0, 1.0)),
    (2, -1, (1.0, 0.0, 1.0, 1.0)),
)


def box_geometry():
    """Positions, colours and triangle indices of a unit box with one colour per face (4 vertices a face)."""
    positions, colors, indices = [], [], []
    for axis, sign, color in FACES:
        u, v = (axis + 1) % 3, (axis + 2) % 3
        corners = ((0, 0), (1, 0), (1, 1), (0, 1)) if sign > 0 else ((0, 0), (0, 1), (1, 1), (1, 0))
        base = len(positions)
        for cu, cv in corners:
            point = [0.0, 0.0, 0.0]
            point[axis] = 1.0 if sign > 0 else 0.0
            point[u], point[v] = float(cu), float(cv)
            positions.append(point)
            colors.append(color)
        indices += [base, base + 1, base + 2, base, base + 2, base + 3]
    return positions, colors, indices


def glb_bytes(node_name="creature_0", with_material=True):
    """The .glb file content."""
    positions, colors, indices = box_geometry()
    pos_bin = b"".join(struct.pack("<3f", *p) for p in positions)
    col_bin = b"".join(struct.pack("<4f", *c) for c in colors)
    idx_bin = b"".join(struct.pack("<H", i) for i in indices)
    idx_bin += b"\0" * (-len(idx_bin) % 4)
    buffer = pos_bin + col_bin + idx_bin
    primitive = {"attributes": {"POSITION": 0, "COLOR_0": 1}, "indices": 2}
    doc = {
        "asset": {"version": "2.0", "generator": "voxgen tests"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"name": node_name, "mesh": 0}],
        "meshes": [{"name": node_name, "primitives": [primitive]}],
        "buffers": [{"byteLength": len(buffer)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(pos_bin), "target": 34962},
            {"buffer": 0, "byteOffset": len(pos_bin), "byteLength": len(col_bin), "target": 34962},
            {"buffer": 0, "byteOffset": len(pos_bin) + len(col_bin), "byteLength": 2 * len(indices), "target": 34963},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": len(positions), "type": "VEC3",
             "min": [0.0, 0.0, 0.0], "max": [1.0, 1.0, 1.0]},
            {"bufferView": 1, "componentType": 5126, "count": len(colors), "type": "VEC4"},
            {"bufferView": 2, "componentType": 5123, "count": len(indices), "type": "SCALAR"},
        ],
    }
    if with_material:
        doc["materials"] = [{"name": "voxels", "pbrMetallicRoughness": {"baseColorFactor": [1, 1, 1, 1],
                                                                        "metallicFactor": 0.0}}]
        primitive["material"] = 0
    text = json.dumps(doc).encode("utf-8")
    text += b" " * (-len(text) % 4)
    total = 12 + 8 + len(text) + 8 + len(buffer)
    out = struct.pack("<4sII", b"glTF", 2, total)
    out += struct.pack("<I4s", len(text), b"JSON") + text
    out += struct.pack("<I4s", len(buffer), b"BIN\0") + buffer
    return out
