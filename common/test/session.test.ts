import { sessionToken } from "../src";

const cookieOf = (session: unknown) => Buffer.from(JSON.stringify(session)).toString("base64");

describe("reading the session cookie", () => {
  test("When the Cookie header holds the session among other cookies, then its JWT is read", () => {
    const value = cookieOf({ jwt: "a.b.c" });
    expect(sessionToken(`session=${value}`)).toBe("a.b.c");
    expect(sessionToken(`theme=dark; session=${value}; lang=en`)).toBe("a.b.c");
    expect(sessionToken(`theme=dark;session=${value}`)).toBe("a.b.c");
    expect(sessionToken(`session="${value}"`)).toBe("a.b.c");
    // the first of two, as cookie-session itself reads it
    expect(sessionToken(`session=${value}; session=${cookieOf({ jwt: "x.y.z" })}`)).toBe("a.b.c");
  });

  test("When there is no session cookie, or it cannot be read, then there is no token, and no error", () => {
    for (const header of [
      undefined,
      "",
      "theme=dark",
      "mysession=" + cookieOf({ jwt: "a.b.c" }),
      "session=",
      "session=%%%garbage",
      `session=${Buffer.from("not json").toString("base64")}`,
      `session=${cookieOf(null)}`,
      `session=${cookieOf({ jwt: 42 })}`,
      `session=${cookieOf(["a.b.c"])}`,
    ]) {
      expect(sessionToken(header)).toBeUndefined();
    }
  });
});
