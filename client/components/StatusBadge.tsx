import type { Tone } from "../lib/status";

export function StatusBadge({ tone, label, testId }: { tone: Tone; label: string; testId?: string }) {
  return (
    <span className={`badge badge-${tone}`} data-testid={testId}>
      {label}
    </span>
  );
}
