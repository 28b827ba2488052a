import type { Metadata } from "next";
import { DoorScanner } from "../../components/DoorScanner";
import { requireUser } from "../../lib/session";

export const metadata: Metadata = { title: "Door" };

/** For sellers at the door: scan or type a pass's code; works offline and syncs when back. */
export default async function DoorPage() {
  await requireUser("/door");
  return (
    <>
      <div className="page-header">
        <div>
          <h1>Door</h1>
          <p className="muted">Check in the passes of your tickets. Each pass enters once.</p>
        </div>
      </div>
      <DoorScanner />
    </>
  );
}
