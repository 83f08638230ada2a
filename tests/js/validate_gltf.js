// Validates a .glb/.gltf file with the Khronos `gltf-validator` and prints its report's issues
// as JSON on stdout: { errors, warnings, infos, hints, messages: [{ code, severity, message,
// pointer }], generator }. Exits 1 when validation itself fails to run.
// Usage: NODE_PATH=.tools/node_modules node tests/js/validate_gltf.js FILE
const fs = require("fs");
const validator = require("gltf-validator");

const bytes = new Uint8Array(fs.readFileSync(process.argv[2]));
validator
  .validateBytes(bytes, { maxIssues: 0 })
  .then((report) => {
    const issues = report.issues;
    process.stdout.write(
      JSON.stringify({
        errors: issues.numErrors,
        warnings: issues.numWarnings,
        infos: issues.numInfos,
        hints: issues.numHints,
        messages: issues.messages,
        generator: report.info ? report.info.generator : null,
      })
    );
  })
  .catch((error) => {
    console.error(String(error));
    process.exit(1);
  });
