import type { Metadata } from "next";
import { AuthPage } from "../../../components/AuthPage";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  return <AuthPage mode="signin" next={(await searchParams).next} />;
}
