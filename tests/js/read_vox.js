// Reads a .vox file with the independent npm `vox-reader` and prints a JSON summary on stdout:
// { models: [{ size: [x, y, z], voxels: [[x, y, z, i], ...] }], rgba: [[r, g, b, a] x N],
//   transforms: [{ id, name, child, layer, t }], groups: [{ id, children }],
//   shapes: [{ id, models }], layers: [{ id, name }] }
// Usage: NODE_PATH=.tools/node_modules node tests/js/read_vox.js FILE
const fs = require("fs");
const readVox = require("vox-reader");

const asList = (x) => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const vox = readVox(fs.readFileSync(process.argv[2]));

const sizes = asList(vox.size);
const xyzis = asList(vox.xyzi);
const models = sizes.map((s, k) => ({
  size: [s.x, s.y, s.z],
  voxels: xyzis[k].values.map((v) => [v.x, v.y, v.z, v.i]),
}));
const rgba = (vox.rgba ? vox.rgba.values : []).map((c) => [c.r, c.g, c.b, c.a]);
const transforms = asList(vox.ntrn).map((n) => ({
  id: n.nodeId,
  name: n.nodeAttributes._name === undefined ? null : n.nodeAttributes._name,
  child: n.child,
  layer: n.layer,
  t: n.frames.length > 0 && n.frames[0]._t !== undefined ? n.frames[0]._t : null,
}));
const groups = asList(vox.ngrp).map((n) => ({ id: n.nodeId, children: n.children }));
const shapes = asList(vox.nshp).map((n) => ({ id: n.nodeId, models: n.models.map((m) => m[0]) }));
const layers = asList(vox.layr).map((l) => ({
  id: l.layerId,
  name: l.layerAttributes._name === undefined ? null : l.layerAttributes._name,
}));
process.stdout.write(JSON.stringify({ models, rgba, transforms, groups, shapes, layers }));
