"use client";

import { useEffect } from "react";

/** Marks the document once React is interactive, so browser tests never click a dead page. */
export function HydrationFlag() {
  useEffect(() => {
    document.documentElement.dataset.hydrated = "true";
  }, []);
  return null;
}
