import request from "supertest";
import { createHmac } from "node:crypto";
import { serviceUnderTest } from "@ticketforge/nats";
import { newSessionKeyPair } from "@ticketforge/common";
import { signedToken, testJwtKey, testSessionKeys } from "@ticketforge/common/testing";
import { auth } from "../src/service";

const under = serviceUnderTest(auth, { config: { AUTH_RATE_LIMIT_PER_MINUTE: 1000 } });
const api = () => request(under.service.app);

let counter = 0;
const uniqueEmail = () => `user${Date.now()}${counter++}@example.com`;

function sessionCookie(res: request.Response): string {
  const raw = res.headers["set-cookie"] as unknown as string[] | undefined;
  const cookie = raw?.find((c) => c.startsWith("session="));
  if (!cookie) throw new Error("no session cookie set");
  return cookie.split(";")[0];
}

describe("POST /api/users/signup", () => {
  test("When signing up with a valid email and password, then 201 with the user and a session cookie", async () => {
    const email = uniqueEmail();
    const res = await api().post("/api/users/signup").send({ email, password: "password123" });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), email });
    const cookie = (res.headers["set-cookie"] as unknown as string[])[0];
    expect(cookie).toMatch(/^session=/);
    expect(cookie.toLowerCase()).toContain("httponly");
    expect(cookie.toLowerCase()).toContain("samesite=lax");
    expect(cookie.toLowerCase()).not.toContain("secure;");
  });

  test("When someone signs up, then user.registered announces their id and lower-case email, once", async () => {
    const email = uniqueEmail();
    const res = await api().post("/api/users/signup").send({ email: email.toUpperCase(), password: "password123" });
    expect(res.status).toBe(201);
    const event = await under.recorder.waitFor("user.registered", (d) => d.id === res.body.id);
    expect(event!.data).toEqual({ id: res.body.id, email });
    // the same email again is refused, and announces nobody
    expect((await api().post("/api/users/signup").send({ email, password: "password123" })).status).toBe(400);
    await new Promise((r) => setTimeout(r, 200));
    expect(under.recorder.of("user.registered").filter((e) => e.data.email === email)).toHaveLength(1);
  });

  test("When the email has capitals and spaces, then it is stored trimmed in lower case", async () => {
    const email = uniqueEmail();
    const res = await api()
      .post("/api/users/signup")
      .send({ email: `  ${email.toUpperCase()} `, password: "password123" });
    expect(res.status).toBe(201);
    expect(res.body.email).toBe(email);
  });

  test.each([
    [{ password: "password123" }, "email"],
    [{ email: "a@b.co" }, "password"],
    [{ email: "not-an-email", password: "password123" }, "email"],
    [{ email: 42, password: "password123" }, "email"],
    [{ email: "a@b.co", password: 12345678 }, "password"],
    [{ email: "a@b.co", password: "short" }, "password"],
    [{ email: "a@b.co", password: "x".repeat(129) }, "password"],
    [{ email: `${"a".repeat(250)}@b.co`, password: "password123" }, "email"],
  ])("When the body is %j, then 400 naming %s", async (body, field) => {
    const res = await api().post("/api/users/signup").send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field, message: expect.any(String) })]));
  });

  test("When the body is not an object, then 400 and never a 500", async () => {
    const res = await api().post("/api/users/signup").send([1, 2]);
    expect(res.status).toBe(400);
    expect(res.body.errors.length).toBeGreaterThan(0);
  });

  test("When the email is taken in another letter case, then 400 Email in use", async () => {
    const email = uniqueEmail();
    await api().post("/api/users/signup").send({ email, password: "password123" }).expect(201);
    const res = await api().post("/api/users/signup").send({ email: email.toUpperCase(), password: "password123" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "Email in use" }] });
  });

  test("When ten sign-ups of one email race, then exactly one succeeds", async () => {
    const email = uniqueEmail();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api()
          .post("/api/users/signup")
          .send({ email: i % 2 ? email : email.toUpperCase(), password: "password123" }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(9);
  });

  test("When the JSON is malformed, then 400 with the error shape", async () => {
    const res = await api().post("/api/users/signup").set("Content-Type", "application/json").send('{"email": "a@b.co",');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "Malformed JSON in request body" }] });
  });

  test("When the body is larger than the limit, then 413", async () => {
    const res = await api()
      .post("/api/users/signup")
      .send({ email: "a@b.co", password: "x".repeat(200_000) });
    expect(res.status).toBe(413);
    expect(res.body.errors[0].message).toMatch(/too large/);
  });
});

describe("POST /api/users/signin", () => {
  test("When the credentials are right (any email case), then 200 and a cookie", async () => {
    const email = uniqueEmail();
    await api().post("/api/users/signup").send({ email, password: "password123" }).expect(201);
    const res = await api().post("/api/users/signin").send({ email: email.toUpperCase(), password: "password123" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: expect.any(String), email });
    expect(sessionCookie(res)).toMatch(/^session=/);
  });

  test("When the password is wrong, then 400 Invalid credentials and no cookie", async () => {
    const email = uniqueEmail();
    await api().post("/api/users/signup").send({ email, password: "password123" }).expect(201);
    const res = await api().post("/api/users/signin").send({ email, password: "wrong-password" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "Invalid credentials" }] });
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  test("When the email is unknown, then the same 400 Invalid credentials", async () => {
    const res = await api().post("/api/users/signin").send({ email: uniqueEmail(), password: "password123" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: "Invalid credentials" }] });
  });

  test("When fields are missing, then 400 naming each", async () => {
    const res = await api().post("/api/users/signin").send({});
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(["email", "password"]);
  });
});

describe("GET /api/users/currentuser and POST /api/users/signout", () => {
  test("When signed in, then the current user is returned with iat and exp", async () => {
    const email = uniqueEmail();
    const cookie = sessionCookie(await api().post("/api/users/signup").send({ email, password: "password123" }));
    const res = await api().get("/api/users/currentuser").set("Cookie", cookie);
    expect(res.status).toBe(200);
    expect(res.body.currentUser).toEqual({ id: expect.any(String), email, iat: expect.any(Number), exp: expect.any(Number) });
    expect(res.body.currentUser.exp - res.body.currentUser.iat).toBe(86_400);
  });

  test("When not signed in, then currentUser is null", async () => {
    const res = await api().get("/api/users/currentuser");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ currentUser: null });
  });

  test("When the cookie is tampered with, then currentUser is null, not an error", async () => {
    const claims = { id: "x", email: "evil@example.com", sid: "s" };
    // signed by another key pair; and HS256 "signed" with the public key every service holds
    const hs256 = (key: string) => {
      const input = [
        { alg: "HS256", typ: "JWT" },
        { ...claims, iat: 1, exp: 4_000_000_000 },
      ]
        .map((p) => Buffer.from(JSON.stringify(p)).toString("base64url"))
        .join(".");
      return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
    };
    for (const forged of [signedToken(claims, newSessionKeyPair().privateKey), hs256(testSessionKeys.publicKey)]) {
      const cookie = `session=${Buffer.from(JSON.stringify({ jwt: forged })).toString("base64")}`;
      expect((await api().get("/api/users/currentuser").set("Cookie", cookie)).body).toEqual({ currentUser: null });
    }
    expect((await api().get("/api/users/currentuser").set("Cookie", "session=%%%garbage")).body).toEqual({ currentUser: null });
  });

  test("When the token has expired, then currentUser is null", async () => {
    const expired = signedToken({ id: "x", email: "old@example.com", sid: "s" }, testJwtKey, -10);
    const cookie = `session=${Buffer.from(JSON.stringify({ jwt: expired })).toString("base64")}`;
    expect((await api().get("/api/users/currentuser").set("Cookie", cookie)).body).toEqual({ currentUser: null });
  });

  test("When signing out, then 200 {} and the cookie is cleared", async () => {
    const cookie = sessionCookie(await api().post("/api/users/signup").send({ email: uniqueEmail(), password: "password123" }));
    const res = await api().post("/api/users/signout").set("Cookie", cookie).set("Sec-Fetch-Site", "same-origin");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    const cleared = (res.headers["set-cookie"] as unknown as string[])[0];
    expect(cleared).toMatch(/^session=;/);
    expect(cleared).toMatch(/expires=Thu, 01 Jan 1970/);
  });

  test("When a client that is no browser signs out (neither Origin nor Sec-Fetch-Site: curl, a mobile app), then 200 and the session ends", async () => {
    const cookie = sessionCookie(await api().post("/api/users/signup").send({ email: uniqueEmail(), password: "password123" }));
    expect((await api().post("/api/users/signout").set("Cookie", cookie)).status).toBe(200);
    expect((await api().get("/api/users/currentuser").set("Cookie", cookie)).body).toEqual({ currentUser: null });
  });

  test("When a page of the site itself signs out (its Origin is the site's host), then 200", async () => {
    const cookie = sessionCookie(await api().post("/api/users/signup").send({ email: uniqueEmail(), password: "password123" }));
    const res = await api()
      .post("/api/users/signout")
      .set("Cookie", cookie)
      .set("Host", "ticketforge.local")
      .set("Origin", "https://ticketforge.local");
    expect(res.status).toBe(200);
  });

  test.each([
    ["another site, by Sec-Fetch-Site", { "Sec-Fetch-Site": "cross-site" }],
    ["another site, by Origin", { Origin: "https://evil.example", Host: "ticketforge.local" }],
    ["a sibling site", { "Sec-Fetch-Site": "same-site" }],
    ["another site that hides Sec-Fetch-Site but not Origin", { Origin: "null", Host: "ticketforge.local" }],
  ])("When the sign-out comes from %s, then 403 and the session stays signed in", async (_from, headers) => {
    const cookie = sessionCookie(await api().post("/api/users/signup").send({ email: uniqueEmail(), password: "password123" }));
    const res = await api().post("/api/users/signout").set("Cookie", cookie).set(headers);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ errors: [{ message: "Sign out from the site itself" }] });
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect((await api().get("/api/users/currentuser").set("Cookie", cookie)).body.currentUser).not.toBeNull();
  });

  test("When sign-out is asked for by GET (a link, an image), then 404 and the session stays signed in", async () => {
    const cookie = sessionCookie(await api().post("/api/users/signup").send({ email: uniqueEmail(), password: "password123" }));
    expect((await api().get("/api/users/signout").set("Cookie", cookie).set("Sec-Fetch-Site", "same-origin")).status).toBe(404);
    expect((await api().get("/api/users/currentuser").set("Cookie", cookie)).body.currentUser).not.toBeNull();
  });
});

describe("security headers", () => {
  test.each([
    ["an answer", "get", "/api/users/currentuser"],
    ["an error", "get", "/api/users/nothing-here"],
    ["a refused input", "post", "/api/users/signin"],
    ["a health check", "get", "/healthz"],
  ])("When the API sends %s, then it forbids framing, sniffing, referrers and any active content", async (_what, method, path) => {
    const res = await (method === "get" ? api().get(path) : api().post(path).send({}));
    expect(res.headers["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    expect(res.headers["x-frame-options"]).toBe("DENY");
  });
});

describe("other routes", () => {
  test("When the route is unknown, then 404 with the error shape", async () => {
    const res = await api().get("/api/users/nothing-here");
    expect(res.status).toBe(404);
    expect(res.body.errors[0].message).toMatch(/not found/i);
  });

  test("When probed, then /healthz and /readyz answer 200", async () => {
    expect((await api().get("/healthz")).status).toBe(200);
    expect((await api().get("/readyz")).body).toEqual({ status: "ready" });
  });
});
