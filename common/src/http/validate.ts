import type { z } from "zod";
import { RequestValidationError } from "../errors";

/**
 * Parses request input with a zod schema; every problem becomes a 400 naming its field.
 * Used inside a route, so the parsed value keeps its type: `const body = validate(schema, req.body)`.
 */
export function validate<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const seen = new Set<string>();
  const items = [];
  for (const issue of result.error.issues) {
    const field = issue.path.length > 0 ? issue.path.join(".") : undefined;
    const key = field ?? issue.message;
    if (seen.has(key)) continue; // one message per field is enough for a form
    seen.add(key);
    items.push(field ? { message: issue.message, field } : { message: issue.message });
  }
  throw new RequestValidationError(items);
}
