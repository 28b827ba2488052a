import { createPublicKey, randomUUID } from "node:crypto";
import { checkCodeOffline, importScannerKeys } from "@ticketforge/common/api";
import { loadConfig } from "@ticketforge/common";
import { testSessionKeys } from "@ticketforge/common/testing";
import { passes } from "../src/service";
import { checkCode, newSigningKeyText, parseSigningKey, publicJwk, signCode, windowSeconds } from "../src/signing";

const key = parseSigningKey(newSigningKeyText());
const passId = randomUUID();
const t0 = Date.UTC(2026, 11, 4, 12, 0, 0); // the start of a window
const window = windowSeconds * 1000;

describe("door codes", () => {
  test("When the window changes, then the code changes and the old one names its window's end as expiry", () => {
    const first = signCode(key, passId, t0 + 1_000);
    const sameWindow = signCode(key, passId, t0 + window - 1);
    const next = signCode(key, passId, t0 + window);
    expect(sameWindow.code).toBe(first.code);
    expect(next.code).not.toBe(first.code);
    expect(first.expiresAt.getTime()).toBe(t0 + window);
  });

  test("When a code is checked within one window of its own, then it is accepted; two windows away, then it has expired", () => {
    const { code } = signCode(key, passId, t0);
    for (const at of [t0 - window, t0, t0 + window, t0 + 2 * window - 1]) {
      expect(checkCode([key.publicKey], code, at)).toEqual({ ok: true, passId, window: t0 / window });
    }
    for (const at of [t0 - window - 1, t0 + 2 * window, t0 + 60 * window]) {
      expect(checkCode([key.publicKey], code, at)).toEqual({ ok: false, passId, reason: "expired" });
    }
  });

  test("When a code is signed by another key or altered, then it is forged", () => {
    const other = parseSigningKey(newSigningKeyText());
    const { code } = signCode(other, passId, t0);
    expect(checkCode([key.publicKey], code, t0)).toEqual({ ok: false, passId: null, reason: "forged" });
    const genuine = Buffer.from(signCode(key, passId, t0).code, "base64url");
    const otherPass = Buffer.from(randomUUID().replace(/-/g, ""), "hex");
    otherPass.copy(genuine, 1); // the same signature on another pass id
    expect(checkCode([key.publicKey], genuine.toString("base64url"), t0)).toEqual({ ok: false, passId: null, reason: "forged" });
    expect(checkCode([key.publicKey], "not a code", t0)).toEqual({ ok: false, passId: null, reason: "forged" });
  });

  test("When a scanner has only the published JWK, then it verifies codes offline", () => {
    const jwk = publicJwk(key);
    const scannerKey = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
    const { code } = signCode(key, passId);
    expect(checkCode([scannerKey], code)).toMatchObject({ ok: true, passId });
  });

  test("When PASSES_SIGNING_KEY is not an Ed25519 PKCS#8 key, then the message says what it must be", () => {
    expect(() => parseSigningKey("hello")).toThrow("must be an Ed25519 private key in PKCS#8");
  });

  test("When the Door page checks codes offline (WebCrypto, public JWK only), then it admits a genuine one and names why it refuses the others", async () => {
    const keys = await importScannerKeys([publicJwk(key)]);
    const lists = { revoked: new Set<string>(), admitted: new Set<string>(), windowSeconds };
    const { code } = signCode(key, passId, t0);
    expect(await checkCodeOffline(keys, code, lists, t0 + window)).toEqual({ ok: true, passId });
    expect(await checkCodeOffline(keys, code, lists, t0 + 2 * window)).toEqual({ ok: false, passId, reason: "expired" });
    const altered = Buffer.from(code, "base64url");
    altered[30] ^= 1;
    expect(await checkCodeOffline(keys, altered.toString("base64url"), lists, t0)).toEqual({ ok: false, passId: null, reason: "forged" });
    expect(await checkCodeOffline(keys, code, { ...lists, revoked: new Set([passId]) }, t0)).toEqual({
      ok: false,
      passId,
      reason: "revoked",
    });
    expect(await checkCodeOffline(keys, code, { ...lists, admitted: new Set([passId]) }, t0)).toEqual({
      ok: false,
      passId,
      reason: "already admitted",
    });
  });

  test("When passes starts outside tests without PASSES_SIGNING_KEY, or with a bad one, then start-up stops naming the variable", () => {
    const env = {
      NODE_ENV: "production",
      JWT_PUBLIC_KEY: testSessionKeys.publicKey,
      NATS_URL: "nats://nats:4222",
      DATABASE_URL: "postgres://db/passes",
    };
    const config = loadConfig("passes", passes.settings, env);
    const ctx = { config, log: { info: () => {} }, onCommitted: () => {} } as unknown as Parameters<typeof passes.extend>[0];
    expect(() => passes.extend(ctx)).toThrow("passes: PASSES_SIGNING_KEY is not set");
    expect(() => loadConfig("passes", passes.settings, { ...env, PASSES_SIGNING_KEY: "not a key" })).toThrow(
      /PASSES_SIGNING_KEY must be an Ed25519 private key in PKCS#8/,
    );
  });
});
