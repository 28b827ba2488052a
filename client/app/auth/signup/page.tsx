import type { Metadata } from "next";
import { AuthPage } from "../../../components/AuthPage";

export const metadata: Metadata = { title: "Sign up" };

export default async function SignUpPage({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  return <AuthPage mode="signup" next={(await searchParams).next} />;
}
