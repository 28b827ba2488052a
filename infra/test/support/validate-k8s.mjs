// Validates Kubernetes objects (a JSON array on stdin) and rejects unknown fields, which the
// API server would drop silently (a typo such as `spec.replica` would otherwise pass).
// Prints a JSON array with, for each object, the list of problems (empty when valid).
//
// - Kubernetes' own kinds, Gateway API and KEDA: the schemas kubernetes-models,
//   @kubernetes-models/gateway-api and @kubernetes-models/keda ship. They let unknown fields
//   through, so those are found by watching the validator itself: each schema's compiled
//   validator reads every property the schema defines (and every entry of a free-form map), so
//   a property of the object that the validator never read is one the schema does not know.
// - CloudNativePG and its Barman Cloud plugin, which have no models: the CRDs' own OpenAPI
//   schemas, kept in infra/crds (their README says which release), compiled with ajv after
//   closing every object the CRD does not mark as open (x-kubernetes-preserve-unknown-fields),
//   which is what the API server's pruning amounts to.
//
// These packages are ESM only, and Jest compiles tests to CommonJS, so the tests run this file
// as a plain Node process.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import YAML from "yaml";

const crdDir = fileURLToPath(new URL("../../crds/", import.meta.url));

/** The package holding the models of an API group (kubernetes-models: the built-in groups). */
function modelPackage(apiVersion) {
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  if (group === "gateway.networking.k8s.io") return "@kubernetes-models/gateway-api/";
  if (group === "keda.sh") return "@kubernetes-models/keda/";
  return "kubernetes-models/";
}

const validators = new Map();

async function validatorFor(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (!validators.has(key)) {
    validators.set(
      key,
      (async () => {
        let modelFile;
        try {
          modelFile = fileURLToPath(import.meta.resolve(`${modelPackage(apiVersion)}${apiVersion}/${kind}`));
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

/**
 * A CRD's openAPIV3Schema as a JSON schema that refuses unknown fields: every object with
 * declared properties, or none and no declared map values, is closed unless the CRD keeps
 * unknown fields there; int-or-string fields take either.
 */
function strict(schema) {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!schema || typeof schema !== "object") return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith("x-kubernetes-")) continue;
    out[key] = key === "properties" ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strict(v)])) : strict(value);
  }
  if (schema["x-kubernetes-int-or-string"] && !out.anyOf && !out.oneOf) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  const open = schema["x-kubernetes-preserve-unknown-fields"] === true;
  if (out.type === "object" && !open && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/** What the API server accepts in metadata of the objects here (ObjectMeta's writable basics). */
const objectMeta = {
  type: "object",
  required: ["name"],
  additionalProperties: false,
  properties: {
    name: { type: "string", minLength: 1 },
    namespace: { type: "string" },
    labels: { type: "object", additionalProperties: { type: "string" } },
    annotations: { type: "object", additionalProperties: { type: "string" } },
  },
};

let crdValidators;

/**
 * Every served version of every CRD in infra/crds, by "group/version/Kind"; each compiled on
 * first use (the Cluster's schema is large).
 */
function crdValidatorsByKey() {
  if (crdValidators) return crdValidators;
  // Formats (int32, date-time, ...) are the API server's concern; the shape is ours.
  const ajv = new Ajv({ allErrors: true, strictSchema: false, strictTypes: false, validateFormats: false });
  crdValidators = new Map();
  for (const file of fs.readdirSync(crdDir).filter((f) => f.endsWith(".yaml"))) {
    const crd = YAML.parse(fs.readFileSync(path.join(crdDir, file), "utf8"));
    if (crd?.kind !== "CustomResourceDefinition") continue;
    for (const version of crd.spec.versions.filter((v) => v.served)) {
      const schema = strict(version.schema.openAPIV3Schema);
      schema.properties.metadata = objectMeta;
      schema.required = [...new Set([...(schema.required ?? []), "apiVersion", "kind", "metadata"])];
      delete schema.properties.status;
      const key = `${crd.spec.group}/${version.name}/${crd.spec.names.kind}`;
      let compiled;
      crdValidators.set(key, () => (compiled ??= ajv.compile(schema)));
    }
  }
  return crdValidators;
}

function checkAgainstCrd(object) {
  const validator = crdValidatorsByKey().get(`${object.apiVersion}/${object.kind}`);
  if (!validator) return undefined;
  const validate = validator();
  if (validate(object)) return [];
  return validate.errors.map((e) =>
    e.keyword === "additionalProperties"
      ? `${e.instancePath}/${e.params.additionalProperty}: unknown field`
      : `${e.instancePath || "/"}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`,
  );
}

export async function check(object) {
  const problems = [];
  if (!object || typeof object !== "object" || !object.apiVersion || !object.kind) {
    return ["not a Kubernetes object (apiVersion and kind are required)"];
  }
  const fromCrd = checkAgainstCrd(object);
  if (fromCrd) return fromCrd;
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
