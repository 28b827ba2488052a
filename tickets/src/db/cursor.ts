import type { ListedTicketRow } from "./tickets";

/**
 * A page cursor is opaque to clients: base64url of the last row's position (created_at with
 * microseconds, id). Decoding checks every part, so a forged cursor is a 400, never a SQL error.
 */
export interface Position {
  at: string;
  id: string;
}

const atPattern = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const idPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(row: Pick<ListedTicketRow, "position_at" | "id">): string {
  return Buffer.from(JSON.stringify([row.position_at, row.id])).toString("base64url");
}

export function decodeCursor(cursor: string): Position | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts) || parts.length !== 2) return undefined;
  const [at, id] = parts;
  if (typeof at !== "string" || typeof id !== "string" || !idPattern.test(id)) return undefined;
  const match = atPattern.exec(at);
  // a real calendar instant (no 30 February) in years both JavaScript and PostgreSQL accept
  if (!match || Number(match[1]) < 1970) return undefined;
  const date = new Date(`${at.slice(0, 23)}Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 19) !== at.slice(0, 19)) return undefined;
  return { at, id };
}
