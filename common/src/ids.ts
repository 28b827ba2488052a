const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Every entity id is a uuid: anything else names nothing (a 404, never a 500 from a failed cast
 * in the database).
 */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && uuid.test(value);
}
