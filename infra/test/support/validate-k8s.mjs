// Validates Kubernetes objects (a JSON array on stdin) against the schemas kubernetes-models
// ships, and rejects unknown fields, which those schemas let through (a typo such as
// `spec.replica` would otherwise pass, and the API server would drop it silently).
// Prints a JSON array with, for each object, the list of problems (empty when valid).
//
// kubernetes-models is ESM only, and Jest compiles tests to CommonJS, so the tests run this
// file as a plain Node process.
//
// Unknown fields are found by watching the validator itself: each schema's compiled validator
// reads every property the schema defines (and every entry of a free-form map), so a property
// of the object that the validator never read is one the schema does not know.
import fs from "node:fs";
import { fileURLToPath } from "node:url";

const validators = new Map();

async function validatorFor(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (!validators.has(key)) {
    validators.set(
      key,
      (async () => {
        let modelFile;
        try {
          modelFile = fileURLToPath(import.meta.resolve(`kubernetes-models/${apiVersion}/${kind}`));
        } catch {
          return undefined;
        }
        if (!fs.existsSync(modelFile)) return undefined;
        const source = fs.readFileSync(modelFile, "utf8");
        const schema = /from\s*"((?:\.\.\/)+_schemas\/\w+\.js)"/.exec(source);
        if (!schema) return undefined;
        const { validate } = await import(new URL(schema[1], `file://${modelFile}`).href);
        return validate;
      })(),
    );
  }
  return validators.get(key);
}

/** Wraps `value` so that every own property the validator reads is recorded per path. */
function watch(value, path, seen) {
  if (value === null || typeof value !== "object") return value;
  const read = new Set();
  seen.push({ path, value, read });
  const children = new Map();
  return new Proxy(value, {
    get(target, prop, receiver) {
      if (typeof prop === "string" && Object.prototype.hasOwnProperty.call(target, prop)) {
        read.add(prop);
        if (!children.has(prop)) children.set(prop, watch(target[prop], `${path}/${prop}`, seen));
        return children.get(prop);
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

export async function check(object) {
  const problems = [];
  if (!object || typeof object !== "object" || !object.apiVersion || !object.kind) {
    return ["not a Kubernetes object (apiVersion and kind are required)"];
  }
  const validate = await validatorFor(object.apiVersion, object.kind);
  if (!validate) return [`no schema for ${object.apiVersion} ${object.kind}`];
  const seen = [];
  if (!validate(watch(object, "", seen))) {
    for (const e of validate.errors ?? []) {
      problems.push(`${e.instancePath || "/"}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
    }
  }
  for (const { path, value, read } of seen) {
    if (Array.isArray(value)) continue;
    for (const key of Object.keys(value)) {
      if (!read.has(key)) problems.push(`${path}/${key}: unknown field`);
    }
  }
  return problems;
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const objects = JSON.parse(fs.readFileSync(0, "utf8"));
  const results = [];
  for (const object of objects) results.push(await check(object));
  process.stdout.write(JSON.stringify(results));
}
