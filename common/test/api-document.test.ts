import express from "express";
import request from "supertest";
import { apiOperations, openApiDocument } from "../src/api";
import { ApiDocumentMismatch, checkApiResponse, installApiResponseCheck } from "../src/testing/openapi";

installApiResponseCheck();

const aTicket = { id: "t1", title: "Concert", price: 20.5, userId: "u1", version: 0, orderId: null, status: "available" };

/** A stand-in service answering whatever a test wants, to see what the check lets through. */
function answering(status: number, body?: unknown) {
  const app = express();
  app.all("/{*path}", (_req, res) => {
    if (body === undefined) res.status(status).end();
    else res.status(status).json(body);
  });
  return app;
}

describe("the OpenAPI document", () => {
  const document = openApiDocument() as { openapi: string; paths: Record<string, Record<string, { responses: object }>> };

  test("When it is generated, then it is OpenAPI 3.1 with every endpoint of the endpoint table", () => {
    expect(document.openapi).toBe("3.1.0");
    const described = Object.entries(document.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(described.sort()).toEqual(apiOperations.map((o) => `${o.method} ${o.path}`).sort());
  });

  test("When an endpoint takes a body, then its too-large and malformed-JSON answers are described too", () => {
    expect(Object.keys(document.paths["/api/tickets"].post.responses)).toEqual(expect.arrayContaining(["400", "401", "413"]));
  });
});

describe("checking responses against the document", () => {
  test("When a route answers what the document describes, then the request succeeds", async () => {
    const res = await request(answering(200, aTicket)).get("/api/tickets/t1");
    expect(res.body).toEqual(aTicket);
  });

  test("When a route answers a field the document does not describe, then the request fails naming it", async () => {
    const err = await request(answering(200, { ...aTicket, secret: "x" }))
      .get("/api/tickets/t1")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiDocumentMismatch);
    expect(String(err)).toContain("GET /api/tickets/t1 → 200: body must NOT have additional properties");
    expect(String(err)).toContain("secret");
  });

  test("When a route leaves out a field or changes its type, then the request fails", async () => {
    const { price: _, ...noPrice } = aTicket;
    await expect(request(answering(200, noPrice)).get("/api/tickets/t1")).rejects.toThrow("must have required property 'price'");
    await expect(request(answering(200, { ...aTicket, price: "20.50" })).get("/api/tickets/t1")).rejects.toThrow("/price must be number");
  });

  test("When a route answers a status the document does not list, then the request fails", async () => {
    await expect(request(answering(500, { errors: [{ message: "Something went wrong" }] })).get("/api/tickets/t1")).rejects.toThrow(
      "status 500 is not documented",
    );
  });

  test("When a route answers something other than the JSON the document describes, then the request fails", async () => {
    const app = express().get("/api/tickets/:id", (_req, res) => {
      res.status(200).type("html").send("<p>Concert</p>");
    });
    await expect(request(app).get("/api/tickets/t1")).rejects.toThrow("content type text/html; charset=utf-8, documented application/json");
    await request(answering(204)).delete("/api/orders/o1").expect(204);
  });

  test("When a path is not in the document, then only the services' 404 passes", async () => {
    await request(answering(404, { errors: [{ message: "Route not found: GET /api/nope" }] }))
      .get("/api/nope")
      .expect(404);
    await expect(request(answering(200, { ok: true })).get("/api/tickets-export")).rejects.toThrow("not in the OpenAPI document");
  });

  test("When a required header is missing, then the request fails", () => {
    const problems = checkApiResponse("POST", "/api/users/signin", {
      status: 429,
      headers: { "content-type": "application/json" },
      text: JSON.stringify({ errors: [{ message: "Too many requests, try again later" }] }),
    });
    expect(problems).toEqual(["POST /api/users/signin → 429: header Retry-After is missing"]);
  });
});
