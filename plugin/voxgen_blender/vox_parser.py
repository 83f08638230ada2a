"""MagicaVoxel .vox reader in plain Python (no bpy, no numpy).

Reads versions 150 and 200: models (SIZE/XYZI), the palette (RGBA, or MagicaVoxel's default palette when the
file has none), IMAP, materials (MATL, and the older MATT), layers (LAYR) and the scene graph (nTRN/nGRP/nSHP).
Unknown chunks (rOBJ, rCAM, NOTE, ...) are skipped. Every problem with the bytes raises `VoxError`, whose
message names the file; problems that still leave a usable scene are collected in `VoxScene.warnings`.
"""

import os
import struct
from dataclasses import dataclass, field

SUPPORTED_VERSIONS = (150, 200)
CHUNK_HEADER = struct.Struct("<4sii")
INT32 = struct.Struct("<i")
ROOT_NODE = 0


class VoxError(Exception):
    """A .vox file that cannot be read; the message is lowercase and names the file."""


@dataclass
class Model:
    """One voxel model: its size and its voxels as raw XYZI bytes (x, y, z, colour index; 4 bytes each)."""

    size: tuple
    xyzi: bytes

    @property
    def voxel_count(self):
        """Number of voxels stored for this model."""
        return len(self.xyzi) // 4


@dataclass
class Layer:
    """A LAYR chunk: name and hidden flag."""

    name: str
    hidden: bool


@dataclass
class TransformNode:
    """An nTRN node: a rotation and translation (first frame) applied to one child node."""

    node_id: int
    attrs: dict
    child: int
    layer: int
    rotation: tuple
    translation: tuple
    frames: list


@dataclass
class GroupNode:
    """An nGRP node: a list of child transform nodes."""

    node_id: int
    attrs: dict
    children: list


@dataclass
class ShapeNode:
    """An nSHP node: the models it shows (one per animation frame; the first one is used)."""

    node_id: int
    attrs: dict
    models: list


@dataclass
class Instance:
    """One placed model, flattened from the scene graph: 3x3 signed-permutation rotation and translation."""

    model_id: int
    rotation: tuple
    translation: tuple
    hidden: bool
    layer: int
    name: str


@dataclass
class VoxScene:
    """Everything read from one .vox file."""

    name: str
    version: int
    models: list
    palette: list
    has_palette: bool
    imap: list
    materials: dict
    layers: dict
    nodes: dict
    warnings: list = field(default_factory=list)

    def color(self, index):
        """RGBA bytes (0-255) of a colour index 1..255."""
        return self.palette[index]

    def display_order(self):
        """Colour indices in the order MagicaVoxel shows its palette (IMAP), or 1..255 without IMAP."""
        if not self.imap:
            return list(range(1, 256))
        return [i for i in self.imap if i != 0]

    def has_scene_graph(self):
        """True when the file has a usable scene graph (an nTRN root node)."""
        return isinstance(self.nodes.get(ROOT_NODE), TransformNode)

    def instances(self):
        """Every model placement in the file, with world transforms; one per model without a scene graph."""
        if not self.has_scene_graph():
            return [Instance(i, IDENTITY, (0, 0, 0), False, 0, "") for i in range(len(self.models))]
        found = []
        walk_scene(self, ROOT_NODE, IDENTITY, (0, 0, 0), False, found.append)
        return found


IDENTITY = ((1, 0, 0), (0, 1, 0), (0, 0, 1))


def default_palette():
    """MagicaVoxel's default palette as 256 RGBA tuples indexed by colour index (index 0 is empty).

    Indices 1-215 are the 6x6x6 colour cube (levels ff, cc, 99, 66, 33, 00; red slowest, blue fastest, without
    black), 216-255 are ten-step ramps of red, green, blue and grey (ee, dd, bb, aa, 88, 77, 55, 44, 22, 11).
    """
    levels = (0xFF, 0xCC, 0x99, 0x66, 0x33, 0x00)
    colors = [(r, g, b, 255) for r in levels for g in levels for b in levels][:-1]
    ramp = (0xEE, 0xDD, 0xBB, 0xAA, 0x88, 0x77, 0x55, 0x44, 0x22, 0x11)
    colors += [(v, 0, 0, 255) for v in ramp]
    colors += [(0, v, 0, 255) for v in ramp]
    colors += [(0, 0, v, 255) for v in ramp]
    colors += [(v, v, v, 255) for v in ramp]
    return [(0, 0, 0, 0)] + colors


def decode_rotation(byte):
    """The 3x3 matrix (rows) of a packed nTRN `_r` byte: row indices in bits 0-1 and 2-3, signs in bits 4-6."""
    first = byte & 3
    second = (byte >> 2) & 3
    if first > 2 or second > 2 or first == second:
        raise ValueError(f"invalid rotation byte {byte}")
    third = 3 - first - second
    rows = []
    for row, column in enumerate((first, second, third)):
        sign = -1 if (byte >> (4 + row)) & 1 else 1
        rows.append(tuple(sign if c == column else 0 for c in range(3)))
    return tuple(rows)


def mat_mul(a, b):
    """Product of two 3x3 matrices given as row tuples."""
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3))


def mat_vec(a, v):
    """A 3x3 matrix (rows) times a 3-vector."""
    return tuple(sum(a[i][k] * v[k] for k in range(3)) for i in range(3))


def walk_scene(scene, node_id, rotation, translation, hidden, emit, path=()):
    """Visits the scene graph from `node_id`, calling `emit(Instance)` for every shape with its world transform."""
    if node_id in path:
        scene.warnings.append(f"scene graph cycle at node {node_id}; branch skipped")
        return
    path = path + (node_id,)
    node = scene.nodes.get(node_id)
    if isinstance(node, TransformNode):
        world_rot = mat_mul(rotation, node.rotation)
        moved = mat_vec(rotation, node.translation)
        world_t = tuple(translation[i] + moved[i] for i in range(3))
        node_hidden = hidden or node_is_hidden(scene, node)
        child = scene.nodes.get(node.child)
        if isinstance(child, ShapeNode):
            for model_id in child.models[:1]:
                emit(Instance(model_id, world_rot, world_t, node_hidden, node.layer, node.attrs.get("_name", "")))
        else:
            walk_scene(scene, node.child, world_rot, world_t, node_hidden, emit, path)
    elif isinstance(node, GroupNode):
        for child in node.children:
            walk_scene(scene, child, rotation, translation, hidden, emit, path)
    elif node is None:
        scene.warnings.append(f"scene graph refers to missing node {node_id}")


def node_is_hidden(scene, node):
    """True when a transform node is hidden itself or sits on a hidden layer."""
    layer = scene.layers.get(node.layer)
    return node.attrs.get("_hidden") == "1" or (layer is not None and layer.hidden)


class Reader:
    """A bounds-checked little-endian cursor over one chunk's content."""

    def __init__(self, data, start, end, where):
        self.data = data
        self.pos = start
        self.end = end
        self.where = where

    def take(self, count):
        """The next `count` bytes; raises VoxError past the end of the chunk."""
        if count < 0 or self.pos + count > self.end:
            raise VoxError(f"{self.where}: truncated or corrupt content")
        chunk = self.data[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def int32(self):
        """The next signed 32-bit integer."""
        return INT32.unpack(self.take(4))[0]

    def string(self):
        """A STRING: int32 length, then bytes (decoded as UTF-8, invalid bytes replaced)."""
        return self.take(self.int32()).decode("utf-8", errors="replace")

    def dict(self):
        """A DICT: int32 count, then that many key and value STRINGs."""
        count = self.int32()
        if count < 0 or count > (self.end - self.pos) // 8:
            raise VoxError(f"{self.where}: corrupt dictionary size {count}")
        return {self.string(): self.string() for _ in range(count)}


def read_file(path):
    """Reads a .vox file from disk; raises VoxError (never OSError) on failure."""
    name = os.path.basename(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise VoxError(f"{name}: cannot read file: {err.strerror or err}") from err
    return parse_bytes(data, name)


def parse_bytes(data, name="<memory>"):
    """Parses the bytes of a .vox file into a VoxScene."""
    if len(data) < 8 or data[:4] != b"VOX ":
        raise VoxError(f"{name}: not a MagicaVoxel file (bad magic)")
    version = INT32.unpack_from(data, 4)[0]
    if version not in SUPPORTED_VERSIONS:
        raise VoxError(f"{name}: unsupported .vox version {version} (supported: 150, 200)")
    main_id, main_size, main_children = read_header(data, 8, name)
    if main_id != b"MAIN":
        raise VoxError(f"{name}: first chunk is {main_id!r}, expected MAIN")
    start = 20 + main_size
    end = min(len(data), start + main_children) if main_children >= 0 else len(data)
    scene = VoxScene(name, version, [], default_palette(), False, [], {}, {}, {})
    read_chunks(scene, data, start, end)
    check_scene(scene)
    return scene


def read_header(data, pos, name):
    """The (id, content size, children size) of the chunk at `pos`."""
    if pos + 12 > len(data):
        raise VoxError(f"{name}: truncated chunk header at byte {pos}")
    chunk_id, size, children = CHUNK_HEADER.unpack_from(data, pos)
    if size < 0 or children < 0:
        raise VoxError(f"{name}: negative chunk size at byte {pos}")
    return chunk_id, size, children


def read_chunks(scene, data, pos, end):
    """Reads the children of MAIN, one after the other; a SIZE chunk pairs with the XYZI after it."""
    size = None
    while pos + 12 <= end:
        chunk_id, content, children = read_header(data, pos, scene.name)
        body = pos + 12
        if body + content > len(data):
            raise VoxError(f"{scene.name}: chunk {chunk_id.decode('latin-1')} at byte {pos} runs past the end")
        reader = Reader(data, body, body + content, f"{scene.name}: {chunk_id.decode('latin-1')} chunk")
        if chunk_id == b"SIZE":
            size = read_size(reader)
        elif chunk_id == b"XYZI":
            if size is None:
                raise VoxError(f"{scene.name}: XYZI chunk at byte {pos} without a SIZE chunk before it")
            scene.models.append(read_xyzi(reader, size, scene))
            size = None
        else:
            read_other(scene, chunk_id, reader)
        pos = body + content + children


def read_size(reader):
    """A SIZE chunk: three positive int32 dimensions."""
    size = (reader.int32(), reader.int32(), reader.int32())
    if min(size) < 1 or max(size) > 2048:
        raise VoxError(f"{reader.where}: invalid model size {size}")
    return size


def read_xyzi(reader, size, scene):
    """An XYZI chunk: int32 count, then 4 bytes per voxel; voxels outside the model or of index 0 are dropped."""
    count = reader.int32()
    if count < 0:
        raise VoxError(f"{reader.where}: negative voxel count {count}")
    raw = reader.take(4 * count)
    xs, ys, zs, cs = raw[0::4], raw[1::4], raw[2::4], raw[3::4]
    inside = (max(xs, default=0) < size[0] and max(ys, default=0) < size[1] and max(zs, default=0) < size[2])
    if inside and 0 not in cs:
        return Model(size, raw)
    kept = bytearray()
    for i in range(count):
        if xs[i] < size[0] and ys[i] < size[1] and zs[i] < size[2] and cs[i] != 0:
            kept += raw[4 * i:4 * i + 4]
    scene.warnings.append(f"model {len(scene.models)}: {count - len(kept) // 4} voxels outside its size dropped")
    return Model(size, bytes(kept))


def read_other(scene, chunk_id, reader):
    """Dispatches the chunks that are not SIZE/XYZI; unknown ones are skipped."""
    handler = CHUNK_READERS.get(chunk_id)
    if handler is not None:
        handler(scene, reader)


def read_rgba(scene, reader):
    """RGBA: 256 colours; file entry i is colour index i + 1 (the last entry would be index 256 and is unused)."""
    raw = reader.take(1024)
    colors = [tuple(raw[4 * i:4 * i + 4]) for i in range(256)]
    scene.palette = [(0, 0, 0, 0)] + colors[:255]
    scene.has_palette = True


def read_imap(scene, reader):
    """IMAP: 256 colour indices in MagicaVoxel's palette display order."""
    scene.imap = list(reader.take(256))


def read_matl(scene, reader):
    """MATL: material id (= colour index; id 256 wraps to 0) and a property dictionary."""
    material_id = reader.int32() & 0xFF
    scene.materials[material_id] = reader.dict()


MATT_TYPES = {0: "_diffuse", 1: "_metal", 2: "_glass", 3: "_emit"}
MATT_PROPERTIES = ("_plastic", "_rough", "_spec", "_ior", "_att", "_power", "_glow", "_total_power")


def read_matt(scene, reader):
    """MATT (older files): id, type, weight, property bits and values; stored in the MATL dictionary form."""
    material_id = reader.int32() & 0xFF
    kind = reader.int32()
    weight = struct.unpack("<f", reader.take(4))[0]
    bits = reader.int32()
    props = {"_type": MATT_TYPES.get(kind, "_diffuse"), "_weight": f"{weight:g}"}
    for bit, key in enumerate(MATT_PROPERTIES):
        if bits & (1 << bit) and reader.pos + 4 <= reader.end:
            props[key] = f"{struct.unpack('<f', reader.take(4))[0]:g}"
    if kind == 1:
        props["_metal"] = props["_weight"]
    elif kind == 3:
        props["_emit"] = props["_weight"]
    scene.materials[material_id] = props


def read_layr(scene, reader):
    """LAYR: layer id and attributes (`_name`, `_hidden`)."""
    layer_id = reader.int32()
    attrs = reader.dict()
    scene.layers[layer_id] = Layer(attrs.get("_name", f"layer {layer_id}"), attrs.get("_hidden") == "1")


def read_ntrn(scene, reader):
    """nTRN: node id, attributes, child id, reserved id, layer id, frames (rotation `_r`, translation `_t`)."""
    node_id = reader.int32()
    attrs = reader.dict()
    child = reader.int32()
    reader.int32()
    layer = reader.int32()
    count = reader.int32()
    if count < 0 or count > (reader.end - reader.pos) // 4:
        raise VoxError(f"{reader.where}: corrupt frame count {count} in node {node_id}")
    frames = [reader.dict() for _ in range(count)]
    rotation, translation = frame_transform(frames[0] if frames else {}, reader.where, node_id)
    scene.nodes[node_id] = TransformNode(node_id, attrs, child, layer, rotation, translation, frames)


def frame_transform(frame, where, node_id):
    """The rotation matrix and integer translation of one nTRN frame dictionary."""
    try:
        rotation = decode_rotation(int(frame["_r"])) if "_r" in frame else IDENTITY
        translation = tuple(int(v) for v in frame.get("_t", "0 0 0").split())
    except ValueError as err:
        raise VoxError(f"{where}: bad transform in node {node_id}: {err}") from err
    if len(translation) != 3:
        raise VoxError(f"{where}: bad translation {frame.get('_t')!r} in node {node_id}")
    return rotation, translation


def read_ngrp(scene, reader):
    """nGRP: node id, attributes, child node ids."""
    node_id = reader.int32()
    attrs = reader.dict()
    count = reader.int32()
    if count < 0 or count > (reader.end - reader.pos) // 4:
        raise VoxError(f"{reader.where}: corrupt child count {count} in node {node_id}")
    scene.nodes[node_id] = GroupNode(node_id, attrs, [reader.int32() for _ in range(count)])


def read_nshp(scene, reader):
    """nSHP: node id, attributes, model ids (each with a frame dictionary)."""
    node_id = reader.int32()
    attrs = reader.dict()
    count = reader.int32()
    if count < 0 or count > (reader.end - reader.pos) // 8:
        raise VoxError(f"{reader.where}: corrupt model count {count} in node {node_id}")
    models = []
    for _ in range(count):
        models.append(reader.int32())
        reader.dict()
    scene.nodes[node_id] = ShapeNode(node_id, attrs, models)


CHUNK_READERS = {
    b"RGBA": read_rgba,
    b"IMAP": read_imap,
    b"MATL": read_matl,
    b"MATT": read_matt,
    b"LAYR": read_layr,
    b"nTRN": read_ntrn,
    b"nGRP": read_ngrp,
    b"nSHP": read_nshp,
}


def check_scene(scene):
    """Drops shape references to models that do not exist, with a warning each."""
    for node in scene.nodes.values():
        if isinstance(node, ShapeNode):
            missing = [m for m in node.models if not 0 <= m < len(scene.models)]
            if missing:
                scene.warnings.append(f"shape node {node.node_id} refers to missing model(s) {missing}")
                node.models = [m for m in node.models if 0 <= m < len(scene.models)]
