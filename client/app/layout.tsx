import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { Header } from "../components/Header";
import { HydrationFlag } from "../components/HydrationFlag";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "TicketForge — tickets for concerts, games and shows", template: "%s · TicketForge" },
  description: "Buy and sell tickets for concerts, games and shows.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1, themeColor: "#4338ca" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <Header />
        <main id="main" className="container main" tabIndex={-1}>
          {children}
        </main>
        <HydrationFlag />
        <footer className="site-footer">
          <div className="container">TicketForge — buy and sell tickets safely. Payments in sandbox mode use test cards only.</div>
        </footer>
      </body>
    </html>
  );
}
