// npm run docs: writes the generated documentation (docs/openapi.json, docs/asyncapi.yaml,
// docs/events.md) from the code.
import fs from "node:fs";
import path from "node:path";
import { generatedDocs, repoRoot } from "./generate";

for (const [file, text] of Object.entries(generatedDocs())) {
  const target = path.join(repoRoot, file);
  const before = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : undefined;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, text);
  console.log(`${before === text ? "unchanged" : "written  "} ${file}`);
}
