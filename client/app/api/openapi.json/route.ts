// The API's OpenAPI document, generated from the schemas the services validate with. Served by
// the web app because every path outside the services' prefixes already reaches it, through the
// local gateway and the cluster's router alike (infra/routes.json).
import { openApiDocument } from "@ticketforge/common/api";

export const dynamic = "force-static";

export function GET() {
  return Response.json(openApiDocument());
}
