import Link from "next/link";
import { redirect } from "next/navigation";
import { AuthForm } from "./AuthForm";
import { getCurrentUser } from "../lib/server-api";
import { safeNextPath, type AuthMode } from "../lib/validation";

export async function AuthPage({ mode, next }: { mode: AuthMode; next: string | string[] | undefined }) {
  const target = safeNextPath(next);
  if (await getCurrentUser()) redirect(target);
  return (
    <section className="auth-card card">
      <h1>{mode === "signup" ? "Create your account" : "Welcome back"}</h1>
      <p className="muted">
        {mode === "signup"
          ? "Sell tickets you cannot use and buy the ones you want."
          : "Sign in to buy tickets, sell yours and follow your orders."}
      </p>
      <AuthForm mode={mode} next={target} />
      <p className="fine-print">
        <Link href="/">Browse tickets without an account</Link>
      </p>
    </section>
  );
}
