import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export interface SessionKeys {
  /** Given to every service: verifies session tokens. */
  publicKey: string;
  /** Given to auth alone: signs them. */
  privateKey: string;
}

/**
 * The session key pair (Ed25519, PEM): JWT_PUBLIC_KEY and JWT_PRIVATE_KEY from the environment,
 * or a pair generated on the first run and kept under .data/ (jwt-private.pem, jwt-public.pem).
 */
export function sessionKeysFor(dataDir: string, env: NodeJS.ProcessEnv): SessionKeys {
  if (env.JWT_PUBLIC_KEY || env.JWT_PRIVATE_KEY) {
    if (!env.JWT_PUBLIC_KEY || !env.JWT_PRIVATE_KEY)
      throw new Error("JWT_PUBLIC_KEY and JWT_PRIVATE_KEY go together: set both, or neither to use the pair kept in .data/");
    return { publicKey: env.JWT_PUBLIC_KEY, privateKey: env.JWT_PRIVATE_KEY };
  }
  const privateFile = path.join(dataDir, "jwt-private.pem");
  const publicFile = path.join(dataDir, "jwt-public.pem");
  if (!fs.existsSync(privateFile) || !fs.existsSync(publicFile)) {
    const pair = crypto.generateKeyPairSync("ed25519");
    fs.writeFileSync(publicFile, pair.publicKey.export({ type: "spki", format: "pem" }), { mode: 0o600 });
    fs.writeFileSync(privateFile, pair.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  }
  return { publicKey: fs.readFileSync(publicFile, "utf8"), privateKey: fs.readFileSync(privateFile, "utf8") };
}

/**
 * A service's environment without the session private key, unless it is auth's: an operator's
 * JWT_PRIVATE_KEY in the launcher's environment must not reach the other services.
 */
export function withSessionKeys(service: string, env: NodeJS.ProcessEnv, keys: SessionKeys): NodeJS.ProcessEnv {
  const { JWT_PRIVATE_KEY: _private, JWT_KEY: _old, PASSES_SIGNING_KEY: doorKey, ...rest } = env;
  return {
    ...rest,
    JWT_PUBLIC_KEY: keys.publicKey,
    ...(service === "auth" ? { JWT_PRIVATE_KEY: keys.privateKey } : {}),
    // the key that signs door codes, likewise, goes to passes alone
    ...(service === "passes" && doorKey ? { PASSES_SIGNING_KEY: doorKey } : {}),
  };
}
