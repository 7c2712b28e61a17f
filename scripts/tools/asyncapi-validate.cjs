// Parses each AsyncAPI document with the official parser (@asyncapi/parser) and
// fails on any error or warning: `node asyncapi-validate.cjs contracts/asyncapi/*.json`.
const fs = require("fs");
const { Parser } = require("@asyncapi/parser");

(async () => {
  const parser = new Parser();
  const names = ["error", "warning", "information", "hint"];
  let bad = 0;
  for (const file of process.argv.slice(2)) {
    const { document, diagnostics } = await parser.parse(fs.readFileSync(file, "utf8"), {
      source: file,
    });
    const counts = [0, 0, 0, 0];
    for (const d of diagnostics) {
      counts[d.severity] += 1;
      if (d.severity <= 1) {
        console.log(`${file}: ${names[d.severity]} ${d.code}: ${d.message} at ${d.path.join(".")}`);
      }
    }
    if (!document || counts[0] || counts[1]) bad += 1;
    console.log(`${file}: ${counts[0]} errors, ${counts[1]} warnings, ${counts[2]} infos, ${counts[3]} hints`);
  }
  process.exit(bad ? 1 : 0);
})();
