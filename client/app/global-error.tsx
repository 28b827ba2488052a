"use client";

// Replaces the root layout when the layout itself fails, so it cannot rely on globals.css.
export default function GlobalError({ retry }: { error: unknown; retry: () => void }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: "system-ui, sans-serif", background: "#f6f7fb", color: "#0f172a", margin: 0 }}>
        <title>Something went wrong · TicketForge</title>
        <main style={{ maxWidth: 520, margin: "15vh auto", padding: "0 20px" }}>
          <h1>Something went wrong</h1>
          <p>TicketForge could not show this page. Please try again in a moment.</p>
          <button
            type="button"
            onClick={() => retry()}
            style={{
              font: "inherit",
              padding: "10px 18px",
              borderRadius: 8,
              border: 0,
              background: "#4338ca",
              color: "#fff",
              cursor: "pointer",
            }}
          >
            Try again
          </button>
        </main>
      </body>
    </html>
  );
}
