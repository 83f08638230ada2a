// Validates every .gltf and .glb under a folder with the Khronos glTF Validator.
//
//   node assets/check_gltf.cjs assets/inbox
//
// Needs `make tools` (it installs gltf-validator into .tools/node_modules). Prints one line per
// file with its error, warning, info and hint counts, then every error and warning; exits 1 when
// any file has an error.
'use strict';

const fs = require('fs');
const path = require('path');

function loadValidator() {
  try {
    return require('gltf-validator');
  } catch (_) {
    return require(path.join(__dirname, '..', '.tools', 'node_modules', 'gltf-validator'));
  }
}

function findModels(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return findModels(full);
    return /\.(gltf|glb)$/i.test(entry.name) ? [full] : [];
  });
}

async function validate(validator, file) {
  const bytes = new Uint8Array(fs.readFileSync(file));
  return validator.validateBytes(bytes, {
    uri: path.basename(file),
    maxIssues: 100,
    externalResourceFunction: (uri) =>
      fs.promises.readFile(path.resolve(path.dirname(file), decodeURIComponent(uri))),
  });
}

async function main() {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node check_gltf.cjs FOLDER');
    process.exit(2);
  }
  const validator = loadValidator();
  let failed = 0;
  for (const file of findModels(dir).sort()) {
    const report = await validate(validator, file);
    const i = report.issues;
    console.log(`${file}: ${i.numErrors} errors, ${i.numWarnings} warnings, ` +
      `${i.numInfos} infos, ${i.numHints} hints`);
    for (const m of i.messages.filter((m) => m.severity <= 1)) {
      console.log(`  ${m.severity === 0 ? 'error' : 'warning'} ${m.code} ${m.pointer || ''}: ${m.message}`);
    }
    if (i.numErrors > 0) failed += 1;
  }
  if (failed > 0) {
    console.log(`${failed} file(s) with errors`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(String(e));
  process.exit(2);
});
