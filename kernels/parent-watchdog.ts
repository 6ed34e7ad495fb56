// A probe host must not outlive the process that asked for it. The IPC 'disconnect' event ends
// an idle host, but a host busy in a long synchronous step (drawing weights, ONNX Runtime
// building a session) runs no event loop: killed parents left such a host running for up to
// 40 s holding gigabytes. A worker thread runs beside the busy main thread: it polls the parent
// process and, once it is gone (the child was reparented), removes the host's temporary files
// and kills the host.

import { Worker } from 'node:worker_threads';

/** How often the watchdog looks at the parent. */
export const WATCH_INTERVAL_MS = 250;

// Plain JavaScript evaluated in the worker (no bundling needed): poll the parent, clean up, kill.
const WATCHDOG_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { rmSync } = require('node:fs');
const dirs = new Set();
parentPort.on('message', (m) => { if (m.track) dirs.add(m.track); if (m.untrack) dirs.delete(m.untrack); });
setInterval(() => {
  let alive = process.ppid === workerData.parent;
  if (alive) { try { process.kill(workerData.parent, 0); } catch { alive = false; } }
  if (alive) return;
  for (const d of dirs) { try { rmSync(d, { recursive: true, force: true }); } catch {} }
  process.kill(process.pid, 'SIGKILL');
}, workerData.interval);
`;

export interface ParentWatchdog {
  /** A temporary folder to delete if the host is killed while it exists. */
  track(dir: string): void;
  untrack(dir: string): void;
}

/** Starts watching the parent of this process; the worker never keeps the process alive. */
export function watchParent(interval = WATCH_INTERVAL_MS): ParentWatchdog {
  const worker = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { parent: process.ppid, interval } });
  worker.unref();
  return {
    track: (dir) => worker.postMessage({ track: dir }),
    untrack: (dir) => worker.postMessage({ untrack: dir }),
  };
}

