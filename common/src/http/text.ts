import { z } from "zod";

/**
 * Characters no user-typed text needs: C0/C1 controls (NUL is refused by PostgreSQL itself, a
 * 500 if it got that far) and the bidirectional overrides and isolates that make a title read
 * differently from what it holds ("txt.exe" shown as "exe.txt").
 */
const unsafe = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;

export function hasUnsafeCharacters(text: string): boolean {
  return unsafe.test(text);
}

/** A string of user text, refused with `message` when it holds control or bidi-override characters. */
export function plainText(typeMessage: string, unsafeMessage: string) {
  return z.string({ message: typeMessage }).refine((s) => !hasUnsafeCharacters(s), unsafeMessage);
}
