// NPAS: Allocate Parameters… — the NPAS allocator (src/core/allocation) from the editor. Asks
// for the model (a quick pick of the file's models and variants), the budget (an input box that
// takes 3.65M, 10% or an exact count and states the minimum when it refuses one), the grouping
// and the method (quick picks); the language server runs the allocator on its compilation of the
// document (`npas/allocationInput`, `npas/allocate`) under a cancellable progress notification,
// so the extension host runs no engine work (without a running server the command says so);
// draws the plan in the dashboard's Allocation pane (layers × groups; the panel opens if it is
// not) and shows it — summary, groups, layers × groups — as a Markdown preview; and offers Apply, which
// appends `emitVariant(plan, freeVariantName(text, base))` to the document as ONE WorkspaceEdit
// (one Undo removes it). Every question can be answered by an argument instead, so scripts and
// tests run it without UI. A code action on `model NAME` / `variant NAME` lines runs the same
// flow for that model.

import * as vscode from 'vscode';
import { RequestType, type LanguageClient } from 'vscode-languageclient/node';
import type { AllocationPlan } from '../core/index.js';
import { ALLOCATE_METHOD, ALLOCATION_INPUT_METHOD, type AllocateAnswer, type AllocateParams, type AllocationInputAnswer, type AllocationInputParams } from '../protocol/lsp-extensions.js';
import { GROUPING_CHOICES, METHOD_CHOICES, budgetArgument, groupingText, parseBudgetText, planDashboardData, planMarkdown } from './allocation-view.js';
import { ComparisonDocuments, showMarkdown } from './compare-variants.js';
import type { DashboardController } from './dashboard-panel.js';
import { fetchModelReports } from './model-reports.js';
import { baseName, specStem } from './output-files.js';
import { compileDocument } from './spec-compilation.js';
import { groupDigits } from '../core/text/number-format.js';

/** `npas.allocate`'s arguments as one object (positional: model, budget, grouping, method, document, apply). */
export interface AllocateArgs {
  readonly model?: string;
  /** A count, or text such as `3.65M`, `10%`, `3_651_883`. */
  readonly budget?: string | number;
  /** `auto`, `all`, `shape`, `role`, `depth:K`, `cluster:K`. */
  readonly grouping?: string;
  /** `wavg`, `wavg(K)`, `repeat`, `hash`. */
  readonly method?: string;
  readonly document?: vscode.Uri | string;
  /** true: apply without asking; false: never offer; absent: offer Apply in a notification. */
  readonly apply?: boolean;
  /** false: do not open the Markdown preview of the plan. Default true. */
  readonly preview?: boolean;
  /** false: do not draw the plan in the dashboard's Allocation pane. Default true. */
  readonly dashboard?: boolean;
}

export type AllocateOutcome =
  | {
      readonly status: 'planned' | 'applied';
      readonly document: string;
      readonly model: string;
      readonly target: number;
      readonly stored: number;
      readonly unused: number;
      readonly grouping: string;
      readonly groupingReason: string;
      readonly method: string;
      readonly regime: 'low' | 'high';
      readonly minimum: number;
      readonly groups: number;
      readonly coefficients: number;
      readonly generationMacs: number;
      readonly variantName: string;
      readonly variantText: string;
      readonly markdown: string;
      /** Applied: the inserted text's range (0-based lines). */
      readonly inserted?: { readonly startLine: number; readonly endLine: number };
      /** What became of the plan in the dashboard: `shown` (posted to the Allocation pane), `skipped`, or why not. */
      readonly dashboard: string;
    }
  | { readonly status: 'refused'; readonly message: string; readonly minimum?: number }
  | { readonly status: 'no-document' | 'no-models' | 'cancelled' | 'apply-failed' | 'server-unavailable'; readonly message?: string };

const AllocationInputRequest = new RequestType<AllocationInputParams, AllocationInputAnswer | null, void>(ALLOCATION_INPUT_METHOD);
const AllocateRequest = new RequestType<AllocateParams, AllocateAnswer<AllocationPlan> | null, void>(ALLOCATE_METHOD);

export function allocateArgs(args: readonly unknown[]): AllocateArgs {
  const [first] = args;
  if (first && typeof first === 'object' && !(first instanceof vscode.Uri)) return first as AllocateArgs;
  const [model, budget, grouping, method, document, apply] = args;
  return {
    model: typeof model === 'string' ? model : undefined,
    budget: typeof budget === 'string' || typeof budget === 'number' ? budget : undefined,
    grouping: typeof grouping === 'string' ? grouping : undefined,
    method: typeof method === 'string' ? method : undefined,
    document: document instanceof vscode.Uri || typeof document === 'string' ? document : undefined,
    apply: typeof apply === 'boolean' ? apply : undefined,
  };
}

export async function openSpec(document: vscode.Uri | string | undefined): Promise<vscode.TextDocument | undefined> {
  if (document !== undefined) return vscode.workspace.openTextDocument(typeof document === 'string' ? vscode.Uri.parse(document) : document);
  const active = vscode.window.activeTextEditor?.document;
  return active?.languageId === 'npas' ? active : undefined;
}

interface ModelChoice {
  readonly name: string;
  readonly kind: 'model' | 'variant';
  readonly base: string | undefined;
  readonly stored: bigint;
}

/**
 * The models and variants of a spec (file order), for quick picks: the language server's
 * `npas/modelReports` of the document as it is now, so the host runs no analysis; analysed here
 * only when no server runs or it does not hold the document.
 */
export async function modelsOf(document: vscode.TextDocument, client: LanguageClient | undefined): Promise<ModelChoice[]> {
  // A document the server does not hold (not an npas one) answers version null: listed here.
  const reports = client ? await fetchModelReports(client, document) : undefined;
  if (reports && reports.version !== null) return reports.models.map((m) => ({ name: m.name, kind: m.kind, base: m.base ?? undefined, stored: BigInt(m.params.stored) }));
  // Its imports followed, as the server follows them: a file of variants lists a library's models too.
  return (await compileDocument(document)).analysis({}).models.map((m) => ({ name: m.name, kind: m.kind, base: m.base, stored: m.params.stored }));
}

/** A quick pick of the file's models; skipped when it has one. */
export async function pickModel(models: readonly ModelChoice[], title: string, preferred?: string): Promise<string | undefined> {
  if (models.length === 1) return models[0]!.name;
  const items = models.map((m) => ({
    label: m.name,
    description: m.kind === 'variant' ? `variant of ${m.base ?? '?'}` : 'model',
    detail: `${groupDigits(m.stored)} stored parameters`,
    picked: m.name === preferred,
  }));
  const chosen = await vscode.window.showQuickPick(items, { title, placeHolder: 'Choose a model or variant', matchOnDescription: true });
  return chosen?.label;
}

export async function allocateCommand(documents: ComparisonDocuments, log: vscode.LogOutputChannel, args: AllocateArgs, dashboard?: DashboardController, client?: () => Promise<LanguageClient | undefined>): Promise<AllocateOutcome> {
  const document = await openSpec(args.document);
  if (!document) {
    void vscode.window.showInformationMessage('NPAS: open a .npas file to allocate a parameter budget to one of its models.');
    return { status: 'no-document' };
  }
  const version = document.version;
  const file = baseName(document.uri);
  const server = await client?.();
  if (!server?.isRunning()) {
    const message = 'the NPAS language server is not running (see the NPAS Studio output), and it runs the allocator; `npas allocate FILE --model M --params N --emit` runs it from a terminal.';
    log.error(`allocate: ${message}`);
    void vscode.window.showErrorMessage(`NPAS: ${message}`);
    return { status: 'server-unavailable', message };
  }
  const uri = server.code2ProtocolConverter.asUri(document.uri);
  const noCopy = `the language server has no open copy of ${file}`;

  let model = args.model;
  if (model === undefined) {
    const models = await modelsOf(document, server);
    if (models.length === 0) {
      void vscode.window.showInformationMessage(`NPAS: ${file} declares no model to allocate (or has errors to fix first).`);
      return { status: 'no-models' };
    }
    model = await pickModel(models, `NPAS: allocate parameters (${file})`);
    if (model === undefined) return { status: 'cancelled' };
  }
  // Its imports followed by the server: a file of variants allocates a library's model as the CLI does.
  const arch = await server.sendRequest(AllocationInputRequest, { uri, model });
  if (!arch) return refuse(log, noCopy);
  if (!arch.ok) return refuse(log, arch.message);
  const { stored, minimum } = arch;

  let target: number;
  const given = budgetArgument(args.budget, stored, minimum);
  if (given) {
    if (!given.ok) return refuse(log, given.message, minimum);
    target = given.value;
  } else {
    const typed = await vscode.window.showInputBox({
      title: `NPAS: parameter budget for ${model}`,
      prompt: `Exact stored parameters B: a count (${minimum.toLocaleString('en-US')} at least), 3.65M, or a percentage of ${stored.toLocaleString('en-US')} such as 10%. Above 100% adds capacity at the same inference FLOPs.`,
      value: '10%',
      valueSelection: [0, 2],
      validateInput: (value) => {
        const p = parseBudgetText(value, stored, minimum);
        return p.ok ? { message: `${p.value.toLocaleString('en-US')} stored parameters (${((100 * p.value) / stored).toFixed(1)}%)`, severity: vscode.InputBoxValidationSeverity.Info } : p.message;
      },
    });
    if (typed === undefined) return { status: 'cancelled' };
    const p = parseBudgetText(typed, stored, minimum);
    if (!p.ok) return refuse(log, p.message, minimum);
    target = p.value;
  }

  let groupingArg = args.grouping;
  if (groupingArg === undefined) {
    const chosen = await vscode.window.showQuickPick(
      GROUPING_CHOICES.map((c) => ({ label: c.label, detail: c.detail, value: c.value })),
      { title: `NPAS: grouping for ${model} at ${target.toLocaleString('en-US')}`, placeHolder: 'How weights are grouped into shared stores' },
    );
    if (!chosen) return { status: 'cancelled' };
    groupingArg = chosen.value;
  }

  let methodArg = args.method;
  if (methodArg === undefined) {
    if (args.grouping !== undefined) methodArg = 'wavg';
    else {
      const chosen = await vscode.window.showQuickPick(
        METHOD_CHOICES.map((c) => ({ label: c.label, detail: c.detail, value: c.value })),
        { title: `NPAS: how ${model}'s weights are generated from their stores` },
      );
      if (!chosen) return { status: 'cancelled' };
      methodArg = chosen.value;
    }
  }

  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `NPAS: allocating ${target.toLocaleString('en-US')} parameters to ${model}`, cancellable: true },
    async (progress, token) => {
      progress.report({ message: `${groupingArg}, ${methodArg}…` });
      const t0 = Date.now();
      // A request cancelled with the notification may be answered by an error: that is a cancellation.
      const r = await server.sendRequest(AllocateRequest, { uri, model, target, grouping: groupingArg, method: methodArg }, token).catch((e: unknown) => {
        if (token.isCancellationRequested) return null;
        throw e;
      });
      if (token.isCancellationRequested) return undefined;
      if (r) log.info(`allocate: ${model} at ${target} (${groupingArg}, ${methodArg}) in ${Date.now() - t0} ms: ${r.ok ? `stored ${r.plan.stored}, ${r.plan.groups.length} groups` : r.message}`);
      return r ?? { ok: false as const, message: noCopy };
    },
  );
  if (!result) return { status: 'cancelled' };
  if (!result.ok) return refuse(log, result.message, result.minimum);
  const { plan, variantName, variantText } = result;
  const markdown = planMarkdown(plan, file, variantText);
  if (args.preview !== false) await showMarkdown(documents.set(`${specStem(file)} — ${plan.model} plan.md`, markdown));
  let shown = 'skipped';
  if (dashboard && args.dashboard !== false) {
    try {
      shown = (await dashboard.showResult(document, { type: 'allocation', result: planDashboardData(plan, file, args.apply === undefined ? variantName : null) })).status;
    } catch (e) {
      shown = `failed: ${e instanceof Error ? e.message : String(e)}`;
      log.warn(`allocate: the plan could not be drawn in the dashboard: ${shown}`);
    }
  }

  const planned = {
    status: 'planned' as const,
    document: document.uri.toString(),
    model: plan.model,
    target: plan.target,
    stored: plan.stored,
    unused: plan.unused,
    grouping: groupingText(plan.grouping),
    groupingReason: plan.groupingReason,
    method: plan.method,
    regime: plan.regime,
    minimum: plan.minimum,
    groups: plan.groups.length,
    coefficients: plan.coefficients,
    generationMacs: plan.generationMacs,
    variantName,
    variantText,
    markdown,
    dashboard: shown,
  };
  if (args.apply === true) {
    const applied = await applyPlan(document, version, variantText);
    if (!applied.ok) return { status: 'apply-failed', message: applied.message };
    return { ...planned, status: 'applied', inserted: applied.inserted };
  }
  if (args.apply === undefined) offerApply(document, version, plan, variantName, variantText, log);
  return planned;
}

function refuse(log: vscode.LogOutputChannel, message: string, minimum?: number): AllocateOutcome {
  log.warn(`allocate: refused: ${message}`);
  void vscode.window.showErrorMessage(`NPAS: the allocation was refused: ${message}`);
  return minimum === undefined ? { status: 'refused', message } : { status: 'refused', message, minimum };
}

function offerApply(document: vscode.TextDocument, version: number, plan: AllocationPlan, name: string, variantText: string, log: vscode.LogOutputChannel): void {
  const apply = 'Apply';
  const copy = 'Copy Variant';
  void vscode.window
    .showInformationMessage(`NPAS: ${plan.model} at exactly ${plan.stored.toLocaleString('en-US')} stored parameters (${plan.groups.length} groups, ${plan.regime} budget). Append it to ${baseName(document.uri)} as variant ${name}?`, apply, copy)
    .then(async (choice) => {
      if (choice === copy) await vscode.env.clipboard.writeText(variantText);
      if (choice !== apply) return;
      const r = await applyPlan(document, version, variantText);
      if (!r.ok) {
        log.warn(`allocate: not applied: ${r.message}`);
        void vscode.window.showWarningMessage(`NPAS: ${r.message}`);
      }
    });
}

/**
 * Appends the variant at the end of the document as one WorkspaceEdit, so a single Undo removes
 * it; refuses when the document changed since the plan was made.
 */
export async function applyPlan(
  document: vscode.TextDocument,
  version: number,
  variantText: string,
): Promise<{ ok: true; inserted: { startLine: number; endLine: number } } | { ok: false; message: string }> {
  if (document.isClosed) document = await vscode.workspace.openTextDocument(document.uri);
  if (document.version !== version) return { ok: false, message: `${baseName(document.uri)} changed since the plan was made; run "NPAS: Allocate Parameters…" again.` };
  const text = document.getText();
  const gap = text.length === 0 || text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
  const insertion = `${gap}${variantText}${variantText.endsWith('\n') ? '' : '\n'}`;
  const at = document.positionAt(text.length);
  const edit = new vscode.WorkspaceEdit();
  edit.insert(document.uri, at, insertion, { label: 'NPAS: apply allocation plan', needsConfirmation: false });
  if (!(await vscode.workspace.applyEdit(edit))) return { ok: false, message: `the plan could not be inserted into ${baseName(document.uri)}` };
  const startLine = at.line + gap.length;
  const endLine = document.positionAt(document.getText().length).line;
  const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === document.uri.toString());
  if (editor) editor.revealRange(new vscode.Range(startLine, 0, endLine, 0), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  return { ok: true, inserted: { startLine, endLine } };
}
