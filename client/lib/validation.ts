import { parsePrice } from "./money";

export type FieldErrors<K extends string> = Partial<Record<K, string>>;

export function validateTicket(input: { title: string; price: string }) {
  const errors: FieldErrors<"title" | "price"> = {};
  const title = input.title.trim();
  if (title === "") errors.title = "Enter a title";
  else if (title.length > 200) errors.title = `Keep the title to 200 characters (it has ${title.length})`;
  const price = parsePrice(input.price);
  if ("error" in price) errors.price = price.error;
  return { errors, value: { title, price: "value" in price ? price.value : 0 } };
}

export type AuthMode = "signin" | "signup";

export function validateCredentials(input: { email: string; password: string }, mode: AuthMode) {
  const errors: FieldErrors<"email" | "password"> = {};
  const email = input.email.trim();
  if (email === "") errors.email = "Enter your email address";
  else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) errors.email = "Enter an email address like name@example.com";
  if (input.password === "") errors.password = mode === "signup" ? "Choose a password" : "Enter your password";
  else if (mode === "signup" && input.password.length < 8) errors.password = "Use at least 8 characters";
  else if (mode === "signup" && input.password.length > 128) errors.password = "Use at most 128 characters";
  return { errors, value: { email, password: input.password } };
}

// Any origin of our own would do: only whether the target stays on it matters.
const siteOrigin = "http://ticketforge.invalid";

/**
 * Only same-site paths may be used as a destination after signing in. The target is resolved the
 * way a browser resolves it (tab, CR and LF dropped, backslashes read as slashes, dot segments
 * removed), so what is checked is where the browser would go, not the text as typed; the
 * resolved path is what is returned, and one that would read as another host is refused too.
 */
export function safeNextPath(next: string | string[] | undefined): string {
  const value = Array.isArray(next) ? next[0] : next;
  if (!value || !value.startsWith("/")) return "/";
  let url: URL;
  try {
    url = new URL(value, siteOrigin);
  } catch {
    return "/";
  }
  if (url.origin !== siteOrigin) return "/";
  const path = `${url.pathname}${url.search}${url.hash}`;
  return path.startsWith("//") || path.startsWith("/\\") ? "/" : path;
}
