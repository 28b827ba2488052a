import http from "node:http";
import type { AddressInfo } from "node:net";

export interface StripeRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  form: Record<string, string>;
}

/**
 * A local server answering the way Stripe's API documents it, for the few calls the stripe
 * provider makes (POST /v1/charges, POST /v1/refunds, GET /v1/charges/search by the idempotency
 * key in a charge's metadata, GET /v1/charges listed by creation time). It records every request
 * so a test can check what the official client really sends; with `holdCharges` set it makes a
 * charge and never answers, like a connection lost after the money was taken; with `searchLags`
 * set, Search does not see the charges yet (its index lags behind, up to a minute and more in an
 * outage), while the list, like Stripe's, does.
 */
export async function startFakeStripe() {
  const requests: StripeRequest[] = [];
  const charges: Array<{ id: string; key: string; amount: number; created: number }> = [];
  const state = { holdCharges: false, searchLags: false };
  const chargeJson = (c: (typeof charges)[number]) => ({
    id: c.id,
    object: "charge",
    amount: c.amount,
    created: c.created,
    status: "succeeded",
    metadata: { idempotency_key: c.key },
  });
  let next = 0;
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, form });
      const url = new URL(req.url ?? "/", "http://stripe");
      if (req.method === "GET" && url.pathname === "/v1/charges/search") {
        const key = /metadata\['idempotency_key'\]:'([^']*)'/.exec(url.searchParams.get("query") ?? "")?.[1];
        const data = state.searchLags ? [] : charges.filter((c) => c.key === key).map(chargeJson);
        res
          .writeHead(200, { "Content-Type": "application/json" })
          .end(JSON.stringify({ object: "search_result", data, has_more: false, url: "/v1/charges/search" }));
        return;
      }
      if (req.method === "GET" && url.pathname === "/v1/charges") {
        const gte = Number(url.searchParams.get("created[gte]") ?? -Infinity);
        const lte = Number(url.searchParams.get("created[lte]") ?? Infinity);
        // newest first, as Stripe lists them; one page is enough for a test
        const data = charges
          .filter((c) => c.created >= gte && c.created <= lte)
          .reverse()
          .map(chargeJson);
        res
          .writeHead(200, { "Content-Type": "application/json" })
          .end(JSON.stringify({ object: "list", data, has_more: false, url: "/v1/charges" }));
        return;
      }
      const [status, answer] = respond(req.method, req.url, form, ++next);
      if (req.method === "POST" && req.url === "/v1/charges" && status === 200) {
        charges.push({
          id: (answer as { id: string }).id,
          key: String(req.headers["idempotency-key"]),
          amount: Number(form.amount),
          created: Math.floor(Date.now() / 1000),
        });
        if (state.holdCharges) return; // the money is taken; the answer never leaves
      }
      res.writeHead(status, { "Content-Type": "application/json", "Request-Id": `req_${next}` });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    charges,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function respond(method: string | undefined, path: string | undefined, form: Record<string, string>, n: number): [number, object] {
  if (method === "POST" && path === "/v1/charges") {
    if (form.source === "tok_chargeDeclined") {
      return [
        402,
        {
          error: {
            type: "card_error",
            code: "card_declined",
            decline_code: "generic_decline",
            message: "Your card was declined.",
            charge: `ch_declined_${n}`,
          },
        },
      ];
    }
    if (form.source !== "tok_visa") {
      return [
        400,
        { error: { type: "invalid_request_error", code: "resource_missing", param: "source", message: `No such token: '${form.source}'` } },
      ];
    }
    const amount = Number(form.amount);
    return [
      200,
      {
        id: `ch_fake_${n}`,
        object: "charge",
        amount,
        amount_captured: amount,
        currency: form.currency,
        description: form.description,
        paid: true,
        refunded: false,
        status: "succeeded",
      },
    ];
  }
  if (method === "POST" && path === "/v1/refunds") {
    return [200, { id: `re_fake_${n}`, object: "refund", charge: form.charge, amount: 2010, currency: "usd", status: "succeeded" }];
  }
  return [404, { error: { type: "invalid_request_error", message: `Unrecognized request URL (${method}: ${path})` } }];
}
