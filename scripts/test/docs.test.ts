import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import Ajv from "ajv";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { createLogger, loadConfig, ServiceMetrics, subjects, type ServiceContext } from "@ticketforge/common";
import { apiOperations } from "@ticketforge/common/api";
import { testSessionKeys } from "@ticketforge/common/testing";
import type { Express } from "express";
import { generatedDocs, publishersOf, repoRoot } from "../docs/generate";
import { manifest } from "../services";
import { definitions as loadDefinitions } from "./support/definitions";

const definitions = loadDefinitions();

// The generated files (docs/, the nats.conf users) are regenerated in memory and compared with
// what is committed, so a change to a schema, a route's contract or services.json that does not
// come with `npm run docs` fails here.

const committed = (file: string) => fs.readFileSync(path.join(repoRoot, file), "utf8");
const asyncApi = () =>
  YAML.parse(committed("docs/asyncapi.yaml")) as {
    channels: Record<string, { address: string }>;
    operations: Record<string, { action: "send" | "receive"; channel: { $ref: string } }>;
  };

describe("files generated from the code and services.json (npm run docs)", () => {
  test.each(Object.keys(generatedDocs()))("When %s is generated again, then it is exactly the committed file", (file) => {
    expect([file, committed(file)]).toEqual([file, generatedDocs()[file]]);
  });

  test("When the AsyncAPI document is checked against the AsyncAPI 3.0.0 schema, then it is valid", () => {
    const specs = require("@asyncapi/specs") as { schemasWithoutId: Record<string, object> };
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(specs.schemasWithoutId["3.0.0"]);
    expect(validate(asyncApi()) ? [] : validate.errors).toEqual([]);
  });

  test("When the OpenAPI document's schemas are checked against JSON Schema 2020-12, then each is valid and every reference resolves", () => {
    // (Ajv cannot check the document against the official OpenAPI 3.1 schema: it does not follow
    // that schema's $dynamicRef. The schema objects are what tools read; they are checked here.)
    const document = JSON.parse(committed("docs/openapi.json")) as { openapi: string; components: { schemas: Record<string, unknown> } };
    expect(document.openapi).toBe("3.1.0");
    const schemas: unknown[] = [...Object.values(document.components.schemas)];
    const refs: string[] = [];
    JSON.parse(JSON.stringify(document), (key, value: unknown) => {
      if (key === "schema" && value && typeof value === "object") schemas.push(value);
      if (key === "$ref" && typeof value === "string") refs.push(value);
      return value;
    });
    const ajv = new Ajv2020({ strict: false });
    for (const schema of schemas) expect([schema, ajv.validateSchema(schema as object) ? [] : ajv.errors]).toEqual([schema, []]);
    for (const ref of refs) {
      const name = ref.replace("#/components/schemas/", "");
      expect([ref, name in document.components.schemas]).toEqual([ref, true]);
    }
  });
});

describe("docs/asyncapi.yaml", () => {
  const operationsOf = (service: string, action: "send" | "receive") => {
    const { channels, operations } = asyncApi();
    return Object.entries(operations)
      .filter(([id, op]) => id.startsWith(`${service}${action === "send" ? "Sends" : "Receives"}`) && op.action === action)
      .map(([, op]) => channels[op.channel.$ref.replace("#/channels/", "")].address)
      .filter((address) => !address.startsWith("deadletter."))
      .sort();
  };

  test.each(definitions.map((d) => [d.name, d] as const))(
    "When %s registers its listeners, then the document says it consumes exactly those subjects",
    (_name, definition) => {
      expect(operationsOf(definition.name, "receive")).toEqual(definition.listeners.map((l) => l.subject).sort());
    },
  );

  // the domains whose service is not named after them: users are auth's
  const ownerOfDomain: Record<string, string> = { user: "auth" };
  // announced for whoever comes next (a live door view, analytics); nobody consumes them yet
  const withoutConsumers = ["pass.issued", "pass.transferred", "pass.checked_in"];

  test.each([...subjects])("%s: one publisher, the service of its stream's domain, and a consumer unless announced only", (subject) => {
    const domain = subject.split(".")[0];
    const owner = ownerOfDomain[domain] ?? manifest.services.find((s) => [domain, `${domain}s`, `${domain}es`].includes(s.name))!.name;
    expect(publishersOf(subject)).toEqual([owner]);
    const consumers = definitions.filter((d) => operationsOf(d.name, "receive").includes(subject));
    expect([subject, consumers.length > 0]).toEqual([subject, !withoutConsumers.includes(subject)]);
  });

  test("When services.json says a service publishes a subject, then the document says so", () => {
    for (const s of manifest.services) {
      expect([s.name, operationsOf(s.name, "send")]).toEqual([s.name, [...s.publishes].sort()]);
    }
  });
});

describe("the OpenAPI document and the routes the services mount", () => {
  /** The endpoints a service's `routes(app, ctx)` mounts, as "method /path/{param}". */
  function mounted(definition: (typeof definitions)[number]): string[] {
    const found: string[] = [];
    const record = (method: string) => (route: string) => {
      found.push(`${method} ${route.replace(/:(\w+)/g, "{$1}")}`);
    };
    const app = { get: record("get"), post: record("post"), put: record("put"), patch: record("patch"), delete: record("delete") };
    const config = loadConfig(definition.name, definition.settings, {
      JWT_PUBLIC_KEY: testSessionKeys.publicKey,
      JWT_PRIVATE_KEY: testSessionKeys.privateKey,
      NATS_URL: "nats://127.0.0.1:4222",
      DATABASE_URL: "postgres://unused/db",
    });
    // mounting only builds the handlers (and registers what they watch); none runs, so no
    // database or NATS is needed
    const ctx = {
      config,
      log: createLogger(definition.name, "silent"),
      metrics: new ServiceMetrics(definition.name),
      onCommitted: () => undefined,
      notifications: { watch: () => undefined },
    } as unknown as ServiceContext;
    definition.routes(app as unknown as Express, ctx as never);
    return found.sort();
  }

  test.each(definitions.map((d) => [d.name, d] as const))(
    "When %s mounts its routes, then they are exactly the document's operations of that service",
    (name, definition) => {
      const documented = apiOperations.filter((op) => op.service === name).map((op) => `${op.method} ${op.path}`);
      expect(mounted(definition)).toEqual(documented.sort());
    },
  );
});

describe("links in the repository's documents", () => {
  const documents = [
    "README.md",
    "CONTRIBUTING.md",
    ...fs.readdirSync(path.join(repoRoot, "docs"), { recursive: true, encoding: "utf8" }).map((f) => `docs/${f}`),
    ...fs.readdirSync(path.join(repoRoot, "diagrams")).map((f) => `diagrams/${f}`),
    ...[...manifest.services.map((s) => s.folder), manifest.client.folder, "infra"].map((d) => `${d}/README.md`),
  ].filter((f) => f.endsWith(".md") && fs.existsSync(path.join(repoRoot, f)));

  test.each(documents)("%s: every relative link leads to a file inside the repository", (file) => {
    const text = committed(file);
    const links = [...text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/.test(t));
    // a path written as code counts too when it climbs out of the document's folder
    const climbing = [...text.matchAll(/`((?:\.\.\/)+[^`\s]*)`/g)].map((m) => m[1]);
    const targets = [...links, ...climbing];
    for (const target of targets) {
      const resolved = path.resolve(repoRoot, path.dirname(file), target);
      const inside = resolved.startsWith(repoRoot + path.sep);
      expect([target, inside, inside && fs.existsSync(resolved)]).toEqual([target, true, true]);
    }
  });
});

describe("references to the design", () => {
  const sections = new Set([...committed("docs/design.md").matchAll(/^## (\d+)\. /gm)].map((m) => m[1]));
  /** Text files under a folder, without dependencies and build output. */
  const walk = (dir: string): string[] =>
    fs.readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).flatMap((e) => {
      if (e.isDirectory()) return ["node_modules", ".next", "dist"].includes(e.name) ? [] : walk(`${dir}/${e.name}`);
      return /\.(ts|tsx|mjs|sql|md|yaml)$/.test(e.name) ? [`${dir}/${e.name}`] : [];
    });
  const sources = [
    ...manifest.services.map((s) => s.folder),
    manifest.client.folder,
    "common",
    "nats",
    "e2e",
    "scripts",
    "infra",
    "diagrams",
  ]
    .flatMap(walk)
    .concat(["README.md", "CONTRIBUTING.md"]);

  test("When code, migrations or documents cite docs/design.md §n, then section n exists", () => {
    const cited: string[] = [];
    for (const file of sources) {
      for (const m of committed(file).matchAll(/design\.md(?:#[\w-]+)?\)? §(\d+)/g)) cited.push(`${file} §${m[1]}`);
    }
    expect(cited.length).toBeGreaterThan(15);
    expect(cited.filter((c) => !sections.has(c.split(" §")[1]))).toEqual([]);
  });
});

describe("the README, for a newcomer", () => {
  const readme = committed("README.md");
  /** Words of prose and tables, as a reader counts them (code blocks and the diagram left out). */
  const words = readme
    .replace(/```[\s\S]*?```/g, "")
    .split(/\s+/)
    .filter((w) => /[\p{L}\p{N}]/u.test(w));

  test("When it is read, then it is at most 1,200 words", () => {
    expect(words.length).toBeLessThanOrEqual(1200);
  });

  test("When it is read, then it shows the app in a committed screenshot and the architecture as a diagram on the page", () => {
    const images = [...readme.matchAll(/!\[[^\]]+\]\(([^)]+\.png)\)/g)].map((m) => m[1]);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      const png = fs.readFileSync(path.join(repoRoot, image));
      expect(png.subarray(1, 4).toString()).toBe("PNG");
      expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(800); // width: a real screen, not an icon
    }
    expect(readme).toMatch(/```mermaid\nflowchart/);
  });

  test("When a newcomer looks for the first steps, then the two commands, each OS, what to click first, the test time and one test's command are there", () => {
    expect(readme).toContain("npm start");
    expect(readme).toContain("npm test");
    for (const os of ["Debian / Ubuntu", "macOS", "WSL2"]) expect(readme).toContain(os);
    for (const step of ["Sign up", "Sell a ticket", "Buy", "tok_visa"]) expect(readme).toContain(step);
    expect(readme).toMatch(/`npm test` runs every Jest project[^.]*\. On a 2-core machine it takes under \w+\s+minutes/);
    expect(readme).toContain("--selectProjects orders");
    expect(readme).toContain("--runTestsByPath");
    expect(readme).toMatch(/-t "[^"]+"/);
  });

  test("When something goes wrong, then the troubleshooting table covers the ports, a data directory in use and npm run reset", () => {
    const table = readme.slice(readme.indexOf("## Troubleshooting"));
    // every port npm start takes: the gateway's, then the services' and the web app's (services.json)
    const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, "services.json"), "utf8")) as {
      services: { port: number }[];
      client: { port: number };
    };
    const last = Math.max(manifest.client.port, ...manifest.services.map((s) => s.port));
    for (const text of ["3000", `3001–${last}`, "54320", "4222", "1080", "already running on this data directory", "npm run reset"])
      expect(table).toContain(text);
  });
});
