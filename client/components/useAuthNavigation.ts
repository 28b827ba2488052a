"use client";

import { useCallback } from "react";

/**
 * After signing in or out, everything rendered on the server (the header above all) depends on
 * the new cookie; a full page load is the one way that re-renders shared layouts reliably.
 */
export function useAuthNavigation() {
  return useCallback((to: string) => window.location.assign(to), []);
}
