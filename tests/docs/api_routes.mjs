// docs/api.md and docs/openapi.json describe the same routes (ctest docs_api):
//   node api_routes.mjs docs/openapi.json docs/api.md
// Every operation of the OpenAPI document (method and path) must have a
// heading of its own in api.md, written `### \`GET /path\``, and every such
// heading must name an operation the document has. Plain node, no packages.
import { readFileSync } from 'node:fs';

const [specFile, mdFile] = process.argv.slice(2);
if (!specFile || !mdFile) {
  console.error('usage: node api_routes.mjs openapi.json api.md');
  process.exit(2);
}
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const spec = JSON.parse(readFileSync(specFile, 'utf8'));
const inSpec = new Set();
for (const [path, item] of Object.entries(spec.paths || {}))
  for (const m of Object.keys(item)) if (METHODS.includes(m)) inSpec.add(`${m.toUpperCase()} ${path}`);

const inDoc = new Map(); // "GET /path" -> line
const problems = [];
let fence = false;
readFileSync(mdFile, 'utf8')
  .split('\n')
  .forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) fence = !fence;
    const m = !fence && line.match(/^#{2,4} `([A-Z]+) (\/[^`\s]*)`\s*$/);
    if (!m) return;
    const op = `${m[1]} ${m[2]}`;
    if (inDoc.has(op)) problems.push(`${mdFile}:${i + 1}: ${op} has a heading already (line ${inDoc.get(op)})`);
    inDoc.set(op, i + 1);
  });

for (const op of inSpec)
  if (!inDoc.has(op)) problems.push(`${op} is in ${specFile} but has no heading in ${mdFile}`);
for (const [op, line] of inDoc)
  if (!inSpec.has(op)) problems.push(`${mdFile}:${line}: ${op} is not an operation of ${specFile}`);
for (const p of problems) console.error(p);
console.log(`docs_api: ${inSpec.size} operations in ${specFile}, ${inDoc.size} headings in ${mdFile}, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
