// Entry point of dist/server.js. `createConnection` reads the transport from the command line
// (`--stdio`, `--node-ipc`, `--socket=N`, `--pipe=NAME`): the VS Code client starts it over IPC;
// any other editor runs `node dist/server.js --stdio` (docs/editor.md). This thread only
// forwards: the language service runs in dist/server-worker.js, a worker thread that an
// analysis can neither block this thread from (cancellations are answered at once) nor take the
// process down with (worker-host.ts).

import { join } from 'node:path';
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startWorkerHost } from './worker-host.js';

const connection = createConnection(ProposedFeatures.all);
startWorkerHost(connection, { script: join(__dirname, 'server-worker.js') });
// A bug that escapes every handler's guard (an async callback) is logged; the server stays up.
process.on('uncaughtException', (e) => connection.console.error(`uncaught: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
process.on('unhandledRejection', (e) => connection.console.error(`unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
connection.listen();
