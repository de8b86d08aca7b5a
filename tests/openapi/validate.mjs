// Validates an OpenAPI document with @apidevtools/swagger-parser (schema and
// spec checks, $refs resolved). Usage: node validate.mjs openapi.json
// ("-" reads standard input). Exits 0 when valid, 1 with the validator's
// message otherwise.
import { readFileSync } from "node:fs";
import SwaggerParser from "@apidevtools/swagger-parser";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs openapi.json");
  process.exit(2);
}
let doc;
try {
  doc = JSON.parse(readFileSync(file === "-" ? 0 : file, "utf8"));
} catch (e) {
  console.error(`openapi: ${file} is not JSON: ${e.message}`);
  process.exit(1);
}
try {
  const api = await SwaggerParser.validate(doc);
  const ops = Object.values(api.paths).reduce((n, item) => n + Object.keys(item).length, 0);
  console.log(`openapi: valid OpenAPI ${api.openapi} document, ${Object.keys(api.paths).length} paths, ${ops} operations`);
} catch (e) {
  console.error(`openapi: INVALID: ${e.message}`);
  process.exit(1);
}
