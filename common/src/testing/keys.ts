/**
 * The session key pair of tests (Ed25519, PEM): every service verifies with the public key and
 * the test auth signs with the private one, so that a cookie signed here is accepted there.
 * Never used outside tests.
 */
export const testSessionKeys = {
  privateKey: "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJc06zBk1bPoKHZ/bBx9NsEovd7Z7d//8ozSHb8QmlRB\n-----END PRIVATE KEY-----\n",
  publicKey: "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAbW0dd2ZaUNcyx1GGMvikm17B/LVwYIjN9Ldfd6S/QFc=\n-----END PUBLIC KEY-----\n",
};

/** What signs test sessions (signInCookie(testJwtKey)): the private key of the pair. */
export const testJwtKey = testSessionKeys.privateKey;
