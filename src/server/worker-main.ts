// Entry point of dist/server-worker.js: the language service itself (server.ts, every feature)
// in a worker thread of dist/server.js, speaking JSON-RPC over the thread's port to the main
// thread (worker-host.ts), which forwards the editor's messages. Its analyses read the
// editor's latest versions from shared memory, so one of a superseded version stops mid-run.

import { parentPort, workerData } from 'node:worker_threads';
import { createConnection, PortMessageReader, PortMessageWriter, ProposedFeatures } from 'vscode-languageserver/node';
import { ANALYSIS_REFUSED_METHOD, DOCUMENT_SLOT_METHOD, type AnalysisRefusedParams, type AnalysisWorkerData, type DocumentSlotParams } from '../protocol/analysis-worker.js';
import { VersionWatch } from './document-versions.js';
import { startServer } from './server.js';

if (!parentPort) throw new Error('server-worker.js runs as the analysis worker of dist/server.js, not on its own');
const watch = new VersionWatch((workerData as AnalysisWorkerData).versions);
const connection = createConnection(ProposedFeatures.all, new PortMessageReader(parentPort), new PortMessageWriter(parentPort));
const ctx = startServer(connection, { versions: watch });
connection.onNotification(DOCUMENT_SLOT_METHOD, (p: DocumentSlotParams) => watch.assign(p.uri, p.slot));
connection.onNotification(ANALYSIS_REFUSED_METHOD, (p: AnalysisRefusedParams) => ctx.analyses.refuse(p.uri, p.version, p.reason));
// A bug that escapes every handler's guard (an async callback) is logged; the worker stays up.
process.on('uncaughtException', (e) => connection.console.error(`uncaught: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
process.on('unhandledRejection', (e) => connection.console.error(`unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
connection.listen();
