import type { Request, Response } from "express";
import { sessionReader, sessionUser, sessionUserIf, type UserPayload } from "../src";
import { signInCookie, testJwtKey, testSessionKeys } from "../src/testing";

const revoked = new Set<string>();
const sessionIdOf = (cookie: string) => {
  const { jwt } = JSON.parse(Buffer.from(cookie.slice("session=".length), "base64").toString()) as { jwt: string };
  return (JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString()) as UserPayload).sid;
};

/** A request as the session reader leaves it for the routes. */
function requestWith(read: ReturnType<typeof sessionReader>, cookie: string | undefined): Request {
  const req = { headers: cookie === undefined ? {} : { cookie } } as Request;
  read(req, {} as Response, () => undefined);
  return req;
}

function middleware() {
  const read = sessionReader(testSessionKeys.publicKey, (sid) => revoked.has(sid));
  return (cookie: string) => sessionUser(requestWith(read, cookie));
}

describe("the session check of every service", () => {
  afterEach(() => jest.restoreAllMocks());

  test("When a user's requests follow one another, then the token's signature is verified once", async () => {
    const who = middleware();
    const verify = jest.spyOn(globalThis.crypto.subtle, "verify");
    const alice = signInCookie(testJwtKey);
    const bob = signInCookie(testJwtKey);

    for (let i = 0; i < 3; i++) expect((await who(alice.cookie))?.id).toBe(alice.id);
    expect((await who(bob.cookie))?.id).toBe(bob.id);

    expect(verify).toHaveBeenCalledTimes(2);
  });

  test("When a session already verified is signed out, then its next request is signed out", async () => {
    const who = middleware();
    const alice = signInCookie(testJwtKey);
    expect((await who(alice.cookie))?.id).toBe(alice.id);

    revoked.add(sessionIdOf(alice.cookie));

    expect(await who(alice.cookie)).toBeUndefined();
  });

  test("When a token already verified expires, then it is refused", async () => {
    const who = middleware();
    const alice = signInCookie(testJwtKey, {}, 60);
    expect((await who(alice.cookie))?.id).toBe(alice.id);

    // only the clock moves on (Date), timers and ticks stay real
    jest.useFakeTimers({
      now: Date.now() + 61_000,
      doNotFake: ["nextTick", "setImmediate", "setTimeout", "setInterval", "queueMicrotask", "hrtime", "performance"],
    });
    try {
      expect(await who(alice.cookie)).toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });

  test("When a verified token comes back with another signature, then it is refused", async () => {
    const who = middleware();
    const alice = signInCookie(testJwtKey);
    expect((await who(alice.cookie))?.id).toBe(alice.id);
    const { jwt } = JSON.parse(Buffer.from(alice.cookie.slice("session=".length), "base64").toString()) as { jwt: string };
    const [header, payload, signature] = jwt.split(".");
    // a character inside the signature: every one of its bits counts (the last characters of a
    // base64url Ed25519 signature carry padding bits and a byte that is often zero, so a change
    // there can decode to the very same signature)
    const flipped = `${signature.slice(0, 10)}${signature[10] === "A" ? "B" : "A"}${signature.slice(11)}`;
    const forged = `session=${Buffer.from(JSON.stringify({ jwt: `${header}.${payload}.${flipped}` })).toString("base64")}`;

    expect(await who(forged)).toBeUndefined();
  });

  test("When a route does not ask who is signed in, then no signature is verified", async () => {
    const read = sessionReader(testSessionKeys.publicKey);
    const verify = jest.spyOn(globalThis.crypto.subtle, "verify");
    const alice = signInCookie(testJwtKey);

    const req = requestWith(read, alice.cookie);

    expect(req.sessionCheck?.claimedUserId()).toBe(alice.id);
    expect(verify).not.toHaveBeenCalled();
    expect((await sessionUser(req))?.id).toBe(alice.id);
    expect((await sessionUser(req))?.id).toBe(alice.id);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  test("When the answer depends on the user only if the cookie claims a given id, then other cookies are not verified", async () => {
    const read = sessionReader(testSessionKeys.publicKey);
    const verify = jest.spyOn(globalThis.crypto.subtle, "verify");
    const seller = signInCookie(testJwtKey);
    const buyer = signInCookie(testJwtKey);
    const isSeller = (claimed: string) => claimed === seller.id;

    expect(await sessionUserIf(requestWith(read, buyer.cookie), isSeller)).toBeUndefined();
    expect(await sessionUserIf(requestWith(read, undefined), isSeller)).toBeUndefined();
    expect(verify).not.toHaveBeenCalled();

    expect((await sessionUserIf(requestWith(read, seller.cookie), isSeller))?.id).toBe(seller.id);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  test("When a forged token claims another user's id, then the claim gets it nothing", async () => {
    const read = sessionReader(testSessionKeys.publicKey);
    const seller = signInCookie(testJwtKey);
    const { jwt } = JSON.parse(Buffer.from(seller.cookie.slice("session=".length), "base64").toString()) as { jwt: string };
    const [header, payload] = jwt.split(".");
    const forged = `session=${Buffer.from(JSON.stringify({ jwt: `${header}.${payload}.${"A".repeat(86)}` })).toString("base64")}`;
    const req = requestWith(read, forged);

    expect(req.sessionCheck?.claimedUserId()).toBe(seller.id);
    expect(await sessionUserIf(req, (claimed) => claimed === seller.id)).toBeUndefined();
    expect(await sessionUser(req)).toBeUndefined();
  });
});
