"use client";

import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import jsQR from "jsqr";
import { api } from "../lib/api";
import { checkCodeOffline, importScannerKeys, type Checkin, type ScannerKeys, type SyncOutcome } from "@ticketforge/common/api";
import { TextField } from "./TextField";

type Outcome = { admitted: boolean; title: string; detail: string };
type Queued = { code: string; scannedAt: string };

const keysStore = "tf-door-keys";
const queueStore = "tf-door-queue";
const scannerStore = "tf-door-scanner";

const load = <T,>(key: string, fallback: T): T => {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : fallback;
  } catch {
    return fallback;
  }
};

/**
 * The door: a code from the camera (BarcodeDetector where the browser has it, jsQR otherwise) or
 * typed in, checked by the service; when the service cannot be reached, checked here with the
 * public key and the revoked list downloaded before, and queued for POST /api/checkins/sync.
 */
export function DoorScanner() {
  const [scanner, setScanner] = useState("door");
  const [code, setCode] = useState("");
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [queue, setQueue] = useState<Queued[]>([]);
  const [keysAsOf, setKeysAsOf] = useState<string | null>(null);
  const [conflicts, setConflicts] = useState<SyncOutcome[]>([]);
  const [camera, setCamera] = useState(false);
  const [busy, setBusy] = useState(false);
  const videoRef = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    let name = localStorage.getItem(scannerStore);
    if (!name) {
      name = `door-${Math.random().toString(36).slice(2, 7)}`;
      localStorage.setItem(scannerStore, name);
    }
    setScanner(name);
    setQueue(load<Queued[]>(queueStore, []));
    setKeysAsOf(load<ScannerKeys | null>(keysStore, null)?.asOf ?? null);
  }, []);

  const saveQueue = (q: Queued[]) => {
    localStorage.setItem(queueStore, JSON.stringify(q));
    setQueue(q);
  };

  const downloadKeys = useCallback(async () => {
    const result = await api<ScannerKeys>("GET", "/api/checkins/keys");
    if (result.ok) {
      localStorage.setItem(keysStore, JSON.stringify(result.data));
      setKeysAsOf(result.data.asOf);
    }
  }, []);

  const sync = useCallback(async () => {
    const pending = load<Queued[]>(queueStore, []);
    if (pending.length === 0) return;
    const result = await api<{ results: SyncOutcome[] }>("POST", "/api/checkins/sync", {
      scanner: localStorage.getItem(scannerStore),
      checkins: pending,
    });
    if (!result.ok) return;
    saveQueue(load<Queued[]>(queueStore, []).slice(pending.length));
    setConflicts((c) => [...c, ...result.data.results.filter((r) => r.outcome !== "admitted")]);
    await downloadKeys();
  }, [downloadKeys]);

  useEffect(() => {
    void downloadKeys().then(sync);
    const online = () => void sync();
    window.addEventListener("online", online);
    return () => window.removeEventListener("online", online);
  }, [downloadKeys, sync]);

  const offline = useCallback(async (scanned: string): Promise<Outcome> => {
    const stored = load<ScannerKeys | null>(keysStore, null);
    if (!stored) return { admitted: false, title: "Cannot check", detail: "Offline, and no keys downloaded yet" };
    const queued = load<Queued[]>(queueStore, []);
    const keys = await importScannerKeys(stored.keys);
    const mine = new Set<string>();
    for (const q of queued) {
      const c = await checkCodeOffline(
        keys,
        q.code,
        { revoked: new Set(), admitted: new Set(), windowSeconds: stored.windowSeconds },
        Date.parse(q.scannedAt),
      );
      if (c.passId) mine.add(c.passId);
    }
    const check = await checkCodeOffline(keys, scanned, {
      revoked: new Set(stored.revoked),
      admitted: new Set([...stored.admitted, ...mine]),
      windowSeconds: stored.windowSeconds,
    });
    if (!check.ok) return { admitted: false, title: "Refused", detail: offlineReason[check.reason] };
    saveQueue([...queued, { code: scanned, scannedAt: new Date().toISOString() }]);
    return { admitted: true, title: "Admitted", detail: "Offline: it will be synced when the connection is back" };
  }, []);

  const check = useCallback(
    async (scanned: string) => {
      if (!scanned.trim() || busy) return;
      setBusy(true);
      const result = await api<Checkin>("POST", "/api/checkins", { code: scanned.trim(), scanner });
      let next: Outcome;
      if (result.ok) {
        remember(result.data.passId);
        next = { admitted: true, title: "Admitted", detail: result.data.ticket.title };
      } else if (result.status === 0 || result.status >= 502) next = await offline(scanned.trim());
      else next = { admitted: false, title: refusedTitle[result.status] ?? "Refused", detail: result.errors[0].message };
      setOutcome(next);
      setCode("");
      setBusy(false);
    },
    [busy, offline, scanner],
  );

  // The camera loop calls the latest `check` without restarting: a restart would forget the code
  // it just read and admit, then refuse, the same pass again and again while it stays in view.
  const checkRef = useRef(check);
  useEffect(() => {
    checkRef.current = check;
  }, [check]);

  useEffect(() => {
    if (!camera) return;
    let stream: MediaStream | undefined;
    let frame = 0;
    let stopped = false;
    const canvas = document.createElement("canvas");
    const detector =
      "BarcodeDetector" in window
        ? new (
            window as unknown as {
              BarcodeDetector: new (o: object) => { detect(v: HTMLVideoElement): Promise<Array<{ rawValue: string }>> };
            }
          ).BarcodeDetector({ formats: ["qr_code"] })
        : undefined;
    let last = "";
    const look = async () => {
      const video = videoRef.current;
      if (stopped || !video) return;
      let found: string | undefined;
      if (video.readyState >= 2) {
        if (detector) found = (await detector.detect(video).catch(() => []))[0]?.rawValue;
        else {
          canvas.width = video.videoWidth;
          canvas.height = video.videoHeight;
          const ctx = canvas.getContext("2d", { willReadFrequently: true });
          ctx?.drawImage(video, 0, 0);
          const image = ctx?.getImageData(0, 0, canvas.width, canvas.height);
          found = image ? jsQR(image.data, image.width, image.height)?.data : undefined;
        }
      }
      if (found && found !== last) {
        last = found;
        await checkRef.current(found);
      }
      frame = requestAnimationFrame(() => void look());
    };
    void navigator.mediaDevices
      ?.getUserMedia({ video: { facingMode: "environment" } })
      .then((s) => {
        stream = s;
        if (videoRef.current) {
          videoRef.current.srcObject = s;
          // a stop of the camera while the video is starting interrupts play(): nothing to report
          videoRef.current.play().catch(() => undefined);
        }
        void look();
      })
      .catch(() => setOutcome({ admitted: false, title: "No camera", detail: "Allow the camera, or type the code" }));
    return () => {
      stopped = true;
      cancelAnimationFrame(frame);
      stream?.getTracks().forEach((t) => t.stop());
    };
  }, [camera]);

  function submit(e: FormEvent) {
    e.preventDefault();
    void check(code);
  }

  return (
    <div className="door">
      <section className="card" aria-label="Scan">
        <form onSubmit={submit} noValidate>
          <TextField
            id="door-code"
            label="Code"
            hint="Scan the QR code with the camera, or paste its code"
            value={code}
            onChange={(e) => setCode(e.target.value)}
            autoComplete="off"
          />
          <div className="door-actions">
            <button type="submit" className="button button-primary" disabled={busy}>
              Check in
            </button>
            <button type="button" className="button button-secondary" onClick={() => setCamera((c) => !c)} aria-pressed={camera}>
              {camera ? "Stop camera" : "Use camera"}
            </button>
          </div>
        </form>
        {camera && <video ref={videoRef} className="door-video" muted playsInline aria-label="Camera" />}
      </section>

      <div aria-live="assertive" className="door-outcome-wrap">
        {outcome && (
          <section className={`door-outcome ${outcome.admitted ? "door-admitted" : "door-refused"}`} data-testid="door-outcome">
            <span className="door-symbol" aria-hidden="true">
              {outcome.admitted ? "✓" : "✕"}
            </span>
            <div>
              <p className="door-title">{outcome.title}</p>
              <p className="door-detail">{outcome.detail}</p>
            </div>
          </section>
        )}
      </div>

      <section className="card door-status" aria-label="Scanner">
        <p>
          Scanner <strong>{scanner}</strong> · keys {keysAsOf ? `from ${new Date(keysAsOf).toLocaleTimeString()}` : "not downloaded"} ·{" "}
          <span data-testid="door-queue">{queue.length} offline check-ins to sync</span>
        </p>
        <button type="button" className="button button-secondary button-small" onClick={() => void sync()} disabled={queue.length === 0}>
          Sync now
        </button>
        {conflicts.length > 0 && (
          <div className="alert alert-error" role="alert">
            <p>Check-ins that need your attention:</p>
            <ul>
              {conflicts.map((c, i) => (
                <li key={`${c.passId}-${i}`}>
                  Pass {c.passId ?? "(unreadable)"}: {c.outcome}, {c.reason}
                </li>
              ))}
            </ul>
          </div>
        )}
      </section>
    </div>
  );
}

/** A pass admitted online: refused offline from now on, before the next download of the lists. */
function remember(passId: string) {
  const stored = load<ScannerKeys | null>(keysStore, null);
  if (stored && !stored.admitted.includes(passId))
    localStorage.setItem(keysStore, JSON.stringify({ ...stored, admitted: [...stored.admitted, passId] }));
}

const refusedTitle: Record<number, string> = { 409: "Already admitted", 410: "Revoked", 403: "Not your ticket", 400: "Refused" };
const offlineReason = {
  forged: "This code is not genuine",
  expired: "This code has expired: ask for the pass to be opened again",
  revoked: "This pass was transferred: its codes are revoked",
  "already admitted": "This pass was admitted already",
} as const;
