// `npas/allocationInput` and `npas/allocate`: Allocate Parameters' two questions to the engine —
// how many parameters a model stores and the least budget it takes, then the plan at the budget
// the user chose and the variant that writes it — answered from the compilation the server keeps
// for the document's current version, so the extension host runs no engine work for it. The
// same core functions as `npas allocate FILE --model M --params N --groups G --method K --emit`.

import { allocate, emitVariant, freeVariantName, parseGrouping, parseMethod, readArchitecture, storedParamsOf, type AllocationPlan } from '../../core/index.js';
import { ALLOCATE_METHOD, ALLOCATION_INPUT_METHOD, type AllocateAnswer, type AllocateParams, type AllocationInputAnswer, type AllocationInputParams } from '../../protocol/lsp-extensions.js';
import type { ServerContext } from '../context.js';
import { guard } from '../guard.js';

export function registerAllocation(ctx: ServerContext): void {
  const architecture = (uri: string, model: string) => {
    const doc = ctx.documents.get(uri);
    return doc ? readArchitecture(ctx.analyses.get(doc).compilation, model) : undefined;
  };
  ctx.connection.onRequest<AllocationInputAnswer | null, unknown>(
    ALLOCATION_INPUT_METHOD,
    guard(ALLOCATION_INPUT_METHOD, ctx.log.error, null, (params: AllocationInputParams): AllocationInputAnswer | null => {
      if (typeof params?.uri !== 'string' || typeof params.model !== 'string') throw new TypeError(`${ALLOCATION_INPUT_METHOD} needs { uri: string, model: string }`);
      const arch = architecture(params.uri, params.model);
      if (!arch) return null;
      return arch.ok ? { ok: true, stored: storedParamsOf(arch.input), minimum: arch.input.fixed + 1 } : arch;
    }),
  );
  ctx.connection.onRequest<AllocateAnswer<AllocationPlan> | null, unknown>(
    ALLOCATE_METHOD,
    guard(ALLOCATE_METHOD, ctx.log.error, null, (params: AllocateParams): AllocateAnswer<AllocationPlan> | null => {
      if (typeof params?.uri !== 'string' || typeof params.model !== 'string' || !Number.isSafeInteger(params.target) || typeof params.grouping !== 'string' || typeof params.method !== 'string') {
        throw new TypeError(`${ALLOCATE_METHOD} needs { uri: string, model: string, target: integer, grouping: string, method: string }`);
      }
      const doc = ctx.documents.get(params.uri);
      const arch = architecture(params.uri, params.model);
      if (!doc || !arch) return null;
      if (!arch.ok) return arch;
      const grouping = parseGrouping(params.grouping);
      if (typeof grouping === 'string') return { ok: false, message: grouping };
      if (grouping.kind === 'checkpoint') return { ok: false, message: 'checkpoint grouping reads a .safetensors file: use `npas allocate --groups checkpoint:PATH --emit` on the command line and paste the variant' };
      const method = parseMethod(params.method);
      if (typeof method === 'string') return { ok: false, message: method };
      const result = allocate(arch.input, { target: params.target, grouping, method: method.method, maxTemplates: method.maxTemplates });
      if (!result.ok) return result;
      const variantName = freeVariantName(doc.getText(), `${result.plan.model}_npas`);
      return { ok: true, plan: result.plan, variantName, variantText: emitVariant(result.plan, variantName) };
    }),
  );
}
