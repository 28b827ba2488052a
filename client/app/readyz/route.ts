// Readiness probe (Kubernetes). Deliberately independent of the services: when one is down the
// app still renders a readable error page, which beats taking every web pod out of rotation.
export const dynamic = "force-dynamic";

export function GET() {
  return Response.json({ status: "ready" }, { headers: { "cache-control": "no-store" } });
}
