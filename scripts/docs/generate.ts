import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { z } from "zod";
import {
  deadLetterHeaders,
  envelopeShape,
  eventSchemas,
  natsAuthorizationBlock,
  natsPasswordVariable,
  streamOf,
  subjects,
  type Subject,
} from "@ticketforge/common";
import { openApiDocument } from "@ticketforge/common/api";
import { busUsers, manifest } from "../services";

/**
 * The files generated from the code and from services.json: the HTTP API (OpenAPI, from
 * common/src/api), the events (AsyncAPI and a readable table: payloads from common's event
 * schemas, publishers and consumers from services.json, which
 * scripts/test/services-manifest.test.ts holds to the services' code) and the NATS users of the
 * shipped nats.conf files. `npm run docs` writes these files; a test fails when the committed
 * ones differ.
 */

export const repoRoot = path.join(__dirname, "..", "..");

type Json = Record<string, unknown>;

/** The services that consume a subject (services.json's `consumes`). */
export function consumersOf(subject: Subject): string[] {
  return manifest.services.filter((s) => s.consumes.includes(subject)).map((s) => s.name);
}

/** The services that publish a subject through their outbox (services.json's `publishes`). */
export function publishersOf(subject: Subject): string[] {
  return manifest.services.filter((s) => s.publishes.includes(subject)).map((s) => s.name);
}

/** The nats.conf files that ship, each with the authorization block derived from services.json. */
export const natsConfFiles = ["infra/k8s/base/nats.conf", "infra/k8s/overlays/prod/nats.conf"];

/** `file` with its `authorization { … }` block replaced by the one services.json gives. */
export function natsConfWithUsers(text: string, file: string): string {
  const block = natsAuthorizationBlock(busUsers, (user) => `$${natsPasswordVariable(user)}`);
  const start = text.search(/^authorization \{$/m);
  const end = start < 0 ? -1 : text.indexOf("\n}", start);
  if (end < 0) throw new Error(`${file} has no authorization { … } block at the start of a line to replace`);
  return `${text.slice(0, start)}${block}${text.slice(end + 2)}`;
}

const key = (subject: string) => subject.replace(/\.(\w)/g, (_, c: string) => c.toUpperCase());
const pascal = (s: string) => s[0].toUpperCase() + s.slice(1);

function draft7(schema: z.ZodType): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: "draft-7", io: "output" });
  return rest;
}

const payloadFormat = "application/schema+json;version=draft-07";

/** The AsyncAPI 3 document of every subject. */
export function asyncApiDocument(): Json {
  const channels: Json = {};
  const operations: Json = {};
  const messages: Json = {};
  for (const subject of subjects) {
    const k = key(subject);
    const schema = eventSchemas[subject];
    channels[k] = {
      address: subject,
      title: subject,
      description: `Stream ${streamOf(subject)}. ${schema.description ?? ""}`.trim(),
      messages: { [k]: { $ref: `#/components/messages/${k}` } },
    };
    messages[k] = {
      name: subject,
      title: subject,
      summary: schema.description,
      contentType: "application/json",
      headers: {
        type: "object",
        required: ["Nats-Msg-Id"],
        properties: { "Nats-Msg-Id": { type: "string", description: "The envelope id: JetStream drops a second publish of it" } },
      },
      payload: { schemaFormat: payloadFormat, schema: draft7(envelopeShape.extend({ type: z.literal(subject), data: schema })) },
    };
    const message = [{ $ref: `#/channels/${k}/messages/${k}` }];
    for (const service of publishersOf(subject)) {
      operations[`${service}Sends${pascal(k)}`] = {
        action: "send",
        channel: { $ref: `#/channels/${k}` },
        title: `${service} publishes ${subject}`,
        summary: "Written to the outbox in the transaction of the change; the relay publishes it after the commit.",
        messages: message,
      };
    }
    for (const service of consumersOf(subject)) {
      operations[`${service}Receives${pascal(k)}`] = {
        action: "receive",
        channel: { $ref: `#/channels/${k}` },
        title: `${service} consumes ${subject}`,
        summary: "One durable consumer shared by the service's replicas; explicit ack, inbox, version order.",
        messages: message,
      };
    }
  }
  channels.deadLetter = {
    address: "deadletter.{service}.{subject}",
    title: "dead letters",
    description:
      "Stream DEADLETTER. A message a consumer could not handle (malformed, or failed NATS_MAX_DELIVER times), its body kept byte for byte.",
    parameters: { service: { description: "The consuming service" }, subject: { description: "The original subject" } },
    messages: { deadLetter: { $ref: "#/components/messages/deadLetter" } },
  };
  messages.deadLetter = {
    name: "dead letter",
    contentType: "application/json",
    headers: {
      type: "object",
      properties: Object.fromEntries(Object.values(deadLetterHeaders).map((h) => [h, { type: "string" }])),
    },
    payload: { schemaFormat: payloadFormat, schema: { description: "The original message body" } },
  };
  for (const d of manifest.services.filter((s) => s.consumes.length > 0)) {
    operations[`${d.name}SendsDeadLetter`] = {
      action: "send",
      channel: { $ref: "#/channels/deadLetter" },
      title: `${d.name} parks what it cannot handle`,
      messages: [{ $ref: "#/channels/deadLetter/messages/deadLetter" }],
    };
  }
  return {
    asyncapi: "3.0.0",
    info: {
      title: "TicketForge events",
      version: "1.0.0",
      description:
        "Every event of TicketForge on NATS JetStream. Each message is an envelope {id, type, occurredAt, data}; money is " +
        "integer cents. The rules (outbox, inbox, versions): docs/design.md §4. Generated by `npm run docs`.",
    },
    defaultContentType: "application/json",
    servers: {
      cluster: { host: "nats:4222", protocol: "nats", description: "The JetStream cluster of the Kubernetes manifests" },
      local: { host: "127.0.0.1:4222", protocol: "nats", description: "npm start's nats-server" },
    },
    channels,
    operations,
    components: { messages },
  };
}

interface Field {
  name: string;
  type: string;
  required: boolean;
}

function fields(schema: Json, prefix = ""): Field[] {
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).flatMap(([name, s]) => {
    const full = prefix + name;
    if (s.type === "object") return [{ name: full, type: "object", required: required.has(name) }, ...fields(s, `${full}.`)];
    return [{ name: full, type: typeOf(s), required: required.has(name) }];
  });
}

function typeOf(s: Json): string {
  if (s.enum) return (s.enum as unknown[]).map((v) => JSON.stringify(v)).join(" \\| ");
  if (s.anyOf) return (s.anyOf as Json[]).map(typeOf).join(" \\| ");
  const type = Array.isArray(s.type) ? s.type.join(" \\| ") : String(s.type ?? "any");
  const notes = [s.format, s.minimum !== undefined && `≥ ${s.minimum}`, s.minLength !== undefined && `min length ${s.minLength}`].filter(
    Boolean,
  );
  return notes.length > 0 ? `${type} (${notes.join(", ")})` : type;
}

/** docs/events.md: the same facts as the AsyncAPI document, for reading. */
export function eventsMarkdown(): string {
  const lines = [
    "# Events",
    "",
    "<!-- Generated by `npm run docs` from the code; edit the code, not this file. -->",
    "",
    "Every subject on NATS JetStream: who publishes it (through its transactional outbox), who consumes",
    "it (one durable consumer per service and subject, shared by its replicas), and its payload. The",
    "machine-readable form is [asyncapi.yaml](asyncapi.yaml) (AsyncAPI 3); the rules that make the",
    "events safe to retry, reorder and duplicate are in [design.md §4](design.md#4-events).",
    "",
    "Sources: payloads from `common/src/events/schemas.ts`, publishers and consumers from",
    "[services.json](../services.json), which a test holds to each service's outbox calls and to the",
    "listeners its definition (`<service>/src/service.ts`) registers.",
    "",
    "| subject | stream | published by | consumed by | meaning |",
    "| --- | --- | --- | --- | --- |",
    ...subjects.map(
      (s) =>
        `| [\`${s}\`](#${s.replace(".", "")}) | ${streamOf(s)} | ${publishersOf(s).join(", ")} | ${consumersOf(s).join(", ")} | ${eventSchemas[s].description ?? ""} |`,
    ),
    "",
    "Every message body is an envelope, checked when publishing and when consuming:",
    "",
    "| field | type | required |",
    "| --- | --- | --- |",
    ...fields(draft7(envelopeShape)).map((f) => `| \`${f.name}\` | ${f.type} | ${f.required ? "yes" : "no"} |`),
    "",
    "The header `Nats-Msg-Id` carries the envelope id, so JetStream drops a second publish of the same",
    "event. Money is integer cents (`price`, `amount`). A message a consumer cannot handle goes to",
    `\`deadletter.<service>.<subject>\` (stream DEADLETTER) with the headers ${Object.values(deadLetterHeaders)
      .map((h) => `\`${h}\``)
      .join(", ")}.`,
  ];
  for (const s of subjects) {
    lines.push("", `## ${s}`, "", eventSchemas[s].description ?? "", "", "| `data` field | type | required |", "| --- | --- | --- |");
    for (const f of fields(draft7(eventSchemas[s]))) lines.push(`| \`${f.name}\` | ${f.type} | ${f.required ? "yes" : "no"} |`);
  }
  return `${lines.join("\n")}\n`;
}

/** Every generated file, by its path in the repository. */
export function generatedDocs(): Record<string, string> {
  return {
    "docs/openapi.json": `${JSON.stringify(openApiDocument(), null, 2)}\n`,
    "docs/asyncapi.yaml": `# Generated by \`npm run docs\` from the code; edit the code, not this file.\n${YAML.stringify(asyncApiDocument(), { lineWidth: 0 })}`,
    "docs/events.md": eventsMarkdown(),
    ...Object.fromEntries(natsConfFiles.map((file) => [file, natsConfWithUsers(fs.readFileSync(path.join(repoRoot, file), "utf8"), file)])),
  };
}
