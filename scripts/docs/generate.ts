import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { z } from "zod";
import { deadLetterHeaders, envelopeShape, eventSchemas, streamOf, subjects, type Subject } from "@ticketforge/common";
import { openApiDocument } from "@ticketforge/common/api";
import { auth } from "@ticketforge/auth/service";
import { tickets } from "@ticketforge/tickets/service";
import { orders } from "@ticketforge/orders/service";
import { payments } from "@ticketforge/payments/service";
import { expiration } from "@ticketforge/expiration/service";

/**
 * The generated documentation in docs/: the HTTP API (OpenAPI, from common/src/api) and the events
 * (AsyncAPI and a readable table): payloads from common's event schemas, publishers from the
 * services' `uow.publish` calls, consumers from the listeners each service registers.
 * `npm run docs` writes these files; a test fails when the committed ones differ.
 */

export const repoRoot = path.join(__dirname, "..", "..");

export const definitions = [auth, tickets, orders, payments, expiration];

type Json = Record<string, unknown>;

/** The subjects each service consumes: the listeners its definition registers. */
export function consumersOf(subject: Subject): string[] {
  return definitions.filter((d) => d.listeners.some((l) => l.subject === subject)).map((d) => d.name);
}

/** The services whose code writes a subject to its outbox (`uow.publish("<subject>", …)`). */
export function publishersOf(subject: Subject): string[] {
  return definitions
    .filter((d) => {
      const src = path.join(repoRoot, d.name, "src");
      const files = fs.readdirSync(src, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
      return files.some((f) =>
        [...fs.readFileSync(path.join(src, f), "utf8").matchAll(/\.publish\(\s*"([\w.]+)"/g)].some((m) => m[1] === subject),
      );
    })
    .map((d) => d.name);
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
  for (const d of definitions.filter((d) => d.listeners.length > 0)) {
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
  const notes = [s.format, s.minimum !== undefined && `≥ ${s.minimum}`, s.minLength !== undefined && `min length ${s.minLength}`].filter(Boolean);
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
    "Sources: payloads from `common/src/events/schemas.ts`, publishers from each service's",
    "`uow.publish` calls, consumers from the listeners each service's definition (`<service>/src/service.ts`)",
    "registers.",
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
  };
}
