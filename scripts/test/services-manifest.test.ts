// services.json is the one list of the services; what reads it trusts it. These tests hold it to
// the services' code (what each one's listeners consume, what its outbox calls publish) and to
// the configs derived from it. The files that cannot read it (workflows, k8s manifests,
// .env.example) are checked by infra/test/services-manifest.test.ts.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import ts from "typescript";
import { natsPermissions, revokedSessionsBucket, subjects } from "@ticketforge/common";
import { busUsers, defaultPorts, manifest } from "../services";
import { definitionOf, repoRoot } from "./support/definitions";

const sorted = (xs: readonly string[]) => [...xs].sort();

/**
 * The event subjects a folder's source passes to a publishing call: any call whose function is
 * named publish… (`publishEvent(tx, "order.created", …)`, `uow.publish("order.created", …)`), with
 * the subject as an argument or as the `type` or `subject` of an object literal argument.
 */
function publishedIn(srcDir: string): string[] {
  const found = new Set<string>();
  const known = new Set<string>(subjects);
  const files = fs.readdirSync(srcDir, { recursive: true, encoding: "utf8" }).filter((f) => /\.tsx?$/.test(f) && !f.endsWith(".d.ts"));
  for (const file of files) {
    const source = ts.createSourceFile(file, fs.readFileSync(path.join(srcDir, file), "utf8"), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node)) {
        const callee = ts.isPropertyAccessExpression(node.expression)
          ? node.expression.name.text
          : ts.isIdentifier(node.expression)
            ? node.expression.text
            : "";
        if (/^publish/i.test(callee)) {
          for (const arg of node.arguments) {
            if (ts.isStringLiteralLike(arg) && known.has(arg.text)) found.add(arg.text);
            if (ts.isObjectLiteralExpression(arg)) {
              for (const p of arg.properties) {
                if (
                  ts.isPropertyAssignment(p) &&
                  ["type", "subject"].includes(p.name.getText(source)) &&
                  ts.isStringLiteralLike(p.initializer) &&
                  known.has(p.initializer.text)
                ) {
                  found.add(p.initializer.text);
                }
              }
            }
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return sorted([...found]);
}

describe("services.json", () => {
  const all = [...manifest.services, manifest.client];

  test("When it is read, then each service has a name, a folder, a port, a database and subject lists", () => {
    for (const s of manifest.services) {
      expect([s.name, /^[a-z][a-z0-9-]*$/.test(s.name)]).toEqual([s.name, true]);
      expect([
        s.name,
        typeof s.folder,
        Number.isInteger(s.port),
        typeof s.database,
        Array.isArray(s.publishes),
        Array.isArray(s.consumes),
      ]).toEqual([s.name, "string", true, "string", true, true]);
    }
  });

  test("When it is read, then no name, folder, port or database is used twice", () => {
    const twice = (xs: readonly unknown[]) => xs.filter((x, i) => xs.indexOf(x) !== i);
    expect(twice(all.map((s) => s.name))).toEqual([]);
    expect(twice(all.map((s) => s.folder))).toEqual([]);
    expect(twice([manifest.gateway.port, ...all.map((s) => s.port)])).toEqual([]);
    expect(twice(manifest.services.map((s) => s.database))).toEqual([]);
  });

  test("When its subjects are read, then each is an event subject (common/src/events/subjects.ts) with exactly one publisher", () => {
    for (const s of manifest.services) {
      const unknown = [...s.publishes, ...s.consumes].filter((subject) => !(subjects as readonly string[]).includes(subject));
      expect([s.name, unknown]).toEqual([s.name, []]);
    }
    const wrong = subjects
      .map((subject) => [subject, manifest.services.filter((s) => s.publishes.includes(subject)).map((s) => s.name)] as const)
      .filter(([, publishers]) => publishers.length !== 1)
      .map(
        ([subject, publishers]) => `services.json names ${publishers.length} publishers of ${subject}: ${publishers.join(", ") || "none"}`,
      );
    expect(wrong).toEqual([]);
  });

  test("When services.json lets a service write to a key-value bucket, then it is the revoked sessions and exactly the services whose code revokes sessions may", () => {
    for (const s of manifest.services) {
      expect([s.name, (s.kvWrites ?? []).filter((b) => b !== revokedSessionsBucket)]).toEqual([s.name, []]);
      const src = path.join(repoRoot, s.folder, "src");
      const revokes = fs
        .readdirSync(src, { recursive: true, encoding: "utf8" })
        .some((f) => f.endsWith(".ts") && /\bsessions\.revoke\(/.test(fs.readFileSync(path.join(src, f), "utf8")));
      expect({ service: s.name, "its code revokes sessions": revokes }).toEqual({
        service: s.name,
        "its code revokes sessions": (s.kvWrites ?? []).includes(revokedSessionsBucket),
      });
    }
  });

  test("When a workspace folder has src/service.ts, then services.json lists it", () => {
    const listed = new Set(manifest.services.map((s) => s.folder));
    const folders = fs.readdirSync(repoRoot).filter((d) => d !== "common" && fs.existsSync(path.join(repoRoot, d, "src", "service.ts")));
    const missing = folders.filter((d) => !listed.has(d)).map((d) => `${d}/src/service.ts exists but services.json does not list ${d}`);
    expect(missing).toEqual([]);
  });
});

describe.each(manifest.services.map((s) => [s.name, s] as const))("%s: services.json and its code", (name, entry) => {
  test("When its folder is read, then it holds a package and the service definition of that name", () => {
    const missing = ["package.json", "src/service.ts", "src/main.ts", "jest.config.js"]
      .filter((f) => !fs.existsSync(path.join(repoRoot, entry.folder, f)))
      .map((f) => `services.json lists ${name} but ${entry.folder}/${f} is missing`);
    expect(missing).toEqual([]);
    expect(definitionOf(entry.folder).name).toBe(name);
  });

  test("When its listeners are registered, then they consume exactly the subjects services.json lists", () => {
    const listening = definitionOf(entry.folder).listeners.map((l) => l.subject as string);
    expect({ service: name, "its listeners (src/service.ts) consume": sorted(listening) }).toEqual({
      service: name,
      "its listeners (src/service.ts) consume": sorted(entry.consumes),
    });
  });

  test("When its source publishes events, then they are exactly the subjects services.json lists", () => {
    expect({ service: name, "its code publishes": publishedIn(path.join(repoRoot, entry.folder, "src")) }).toEqual({
      service: name,
      "its code publishes": sorted(entry.publishes),
    });
  });

  test("When its NATS user is derived, then it may publish its own subjects and no other event subject", () => {
    const user = busUsers.find((u) => u.service === name)!;
    const allowed = natsPermissions(user).publish;
    expect(subjects.filter((s) => allowed.includes(s))).toEqual(subjects.filter((s) => entry.publishes.includes(s)));
    expect(allowed.filter((p) => /^[a-z]/.test(p) && !p.startsWith("deadletter."))).toEqual([...entry.publishes]);
  });
});

describe("what is derived from services.json", () => {
  test("When Jest reads the root config, then every service and the web app is a project", () => {
    const projects: string[] = require(path.join(repoRoot, "jest.config.js")).projects;
    const missing = [...manifest.services, manifest.client]
      .filter((s) => !projects.includes(`<rootDir>/${s.folder}`))
      .map((s) => `${s.name} is not a Jest project: ${s.folder}/jest.config.js is missing`);
    expect(missing).toEqual([]);
  });

  test("When the launcher reads its default ports, then they are services.json's", () => {
    expect(defaultPorts).toEqual({
      gateway: manifest.gateway.port,
      ...Object.fromEntries(manifest.services.map((s) => [s.name, s.port])),
      client: manifest.client.port,
    });
  });

  test("When a publishing call is written as the unit of work may write it, then the check still finds its subject", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-publish-"));
    try {
      fs.writeFileSync(
        path.join(dir, "a.ts"),
        `await publishEvent(tx, "order.created", {});\nuow.publish({ type: "order.cancelled", data });\nctx.work((u) => u.publish("ticket.updated", x));\nuow.publishEvent({ subject: "payment.refunded" });\nconst subject = "payment.completed";\nlog("expiration.complete");\n`,
      );
      expect(publishedIn(dir)).toEqual(["order.cancelled", "order.created", "payment.refunded", "ticket.updated"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
