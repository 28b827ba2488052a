import { redirect } from "next/navigation";
import { getCurrentUser } from "./server-api";
import type { User } from "@ticketforge/common/api";

/** The signed-in user; a visitor is sent to sign in and brought back to `returnTo` after. */
export async function requireUser(returnTo: string): Promise<User> {
  const user = await getCurrentUser();
  if (!user) redirect(`/auth/signin?next=${encodeURIComponent(returnTo)}`);
  return user;
}

export function firstParam(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
