#!/usr/bin/env bash
# GPU probes of the examples with onnxruntime-node's CUDA provider, and the same graphs in
# PyTorch on the same GPU in the same call, for docs/performance.md. Prepared for a session that
# is lent a GPU machine (H100/H200, CUDA 13, no network, no Node.js; see ../shared/gpu/README.md).
#
# On the GPU machine, after the runtime parts made by ../shared/gpu/pack-runtime.sh were copied to
# /tmp/parts by earlier device calls (one part per call, `mkdir -p /tmp/parts && cp .gpu-runtime/* /tmp/parts/`),
# the last call carries the build and runs this script:
#     run(command: "bash scripts/gpu-probe.sh \"$OUT\"", carry: ["dist"], timeout_s: 600)
# Here (before that call): `npm run build` so that dist/cli.js and dist/probe-host.js are current.
#
# Per model it writes, under OUT_DIR (default $OUT, else ./gpu-results):
#   ort-MODEL.json          `npas probe --ep cuda --json --profile` (prefill, decode, roofline, placement)
#   torch-MODEL.json        scripts/gpu-probe-torch.py on the same prefill graph (eager and CUDA graph)
#   torch-MODEL-decode.json the same for the decode-step graph
# and performance.md (a table for docs/performance.md), log.txt, gpu.txt, smoke.json.
# Every step has a timeout; a failing model is logged and the next one runs.
# One device call runs at most 600 s: split the list over two calls on the warm machine, e.g.
#     GPU_PROBE_ONLY='GPT2|Llama|Gemma' bash scripts/gpu-probe.sh "$OUT"        # the done-when first
#     GPU_PROBE_ONLY='Pythia|SmolLM|MoR|Recursive|Transformer|BERT|RoBERTa|ViT|WideNet|WRN|MoEUT|DeepSeek' bash scripts/gpu-probe.sh "$OUT"
# Placement: the probe opens the CUDA session with disable_cpu_ep_fallback=1 (every node on the GPU
# when it opens); when ORT refuses, it reopens with fallback and profiles one run to count nodes
# per provider (add --profile below to always profile; it costs a third session build).
set -uo pipefail
out=${1:-${OUT:-gpu-results}}
mkdir -p "$out" && out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."
ep=${GPU_PROBE_EP:-cuda}   # GPU_PROBE_EP=cpu: a dry run of this script on a machine without a GPU
log() { echo "[$(date +%T)] $*" | tee -a "$out/log.txt" >&2; }

if ! command -v node >/dev/null 2>&1; then
  [ -f /tmp/parts/unpack-runtime.sh ] || { log "no node and no /tmp/parts/unpack-runtime.sh: copy the runtime parts first"; exit 2; }
  eval "$(bash /tmp/parts/unpack-runtime.sh /tmp/parts --env)"
fi
[ -f dist/cli.js ] && [ -f dist/probe-host.js ] || { log "dist/cli.js or dist/probe-host.js missing: npm run build, then carry dist"; exit 2; }
log "node $(node --version); onnxruntime-node at $(node -p "require.resolve('onnxruntime-node')" 2>&1)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/gpu.txt" 2>&1
python3 -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0))' > "$out/torch.txt" 2>&1
SMOKE_L=8 timeout 120 node /tmp/ort/smoke.js cuda > "$out/smoke.json" 2>> "$out/log.txt" || log "smoke test failed (see log)"
log "gpu: $(cat "$out/gpu.txt"); torch: $(cat "$out/torch.txt"); smoke: $(cat "$out/smoke.json" 2>/dev/null)"

# file model seq batch seconds [extra npas probe flags]. The issue's done-when first (every node on
# CUDA, >= 0.8x PyTorch, Llama-2-7B fp16 on an 80 GB card), then one model per sharing scheme.
MODELS=(
  "examples/reference-llms.npas GPT2 512 1 90"
  "examples/reference-llms.npas GPT2 512 1 90 --ops standard"
  "examples/reference-llms.npas Llama2_7B 512 1 420"
  "examples/relaxed-recursive-gemma.npas Gemma2B 512 1 200"
  "examples/relaxed-recursive-gemma.npas RelaxedRecursiveGemma 512 1 200"
  "examples/relaxed-recursive-gemma.npas RecursiveGemma 512 1 200"
  "examples/cla-mlkv.npas Pythia160M 512 1 90"
  "examples/cla-mlkv.npas Pythia160M_MLKV2 512 1 90"
  "examples/mixture-of-recursions.npas SmolLM360M 512 1 120"
  "examples/mixture-of-recursions.npas SmolLM360M 2048 4 150"
  "examples/mixture-of-recursions.npas RecursiveMiddleCycle3 512 1 120"
  "examples/mixture-of-recursions.npas MoR3 512 1 120"
  "examples/mixture-of-recursions.npas MoR3KVShare 512 1 120"
  "examples/takase-kiyono.npas TransformerWMT 512 1 90"
  "examples/takase-kiyono.npas CycleRevPaper 512 1 120"
  "examples/universal-transformer.npas UniversalTransformer 512 1 120"
  "examples/albert-vs-bert.npas BERTBase 512 1 90"
  "examples/albert-vs-bert.npas ALBERTBase 512 1 90"
  "examples/roast-hashed.npas BERTRoast128x 512 1 120"
  "examples/roast-hashed.npas BERTRoast128x 512 1 120 --generation live"
  "examples/vblora-mos.npas RoBERTaLoRA 512 1 90"
  "examples/vblora-mos.npas RoBERTaVBLoRA 512 1 90"
  "examples/widenet.npas ViTMoEB16 196 8 120"
  "examples/widenet.npas WideNetB 196 8 120"
  "examples/ssn-wrn-28-10.npas WRN28_10 1 64 90"
  "examples/ssn-wrn-28-10.npas WRN28_10_SSN10 1 64 90"
  "examples/moeut.npas MoEUT244M 512 1 240"
  "examples/deepseek-v2.npas DeepSeekV2Lite 512 1 420"
)
if [ -n "${GPU_PROBE_ONLY:-}" ]; then
  mapfile -t MODELS < <(printf '%s\n' "${MODELS[@]}" | grep -E "$GPU_PROBE_ONLY")
fi

for entry in "${MODELS[@]}"; do
  read -r file model seq batch limit extra <<< "$entry"
  tag="$model-s$seq-b$batch${extra:+-$(echo "$extra" | tr -c 'a-z0-9' '_' | sed 's/^_*//;s/_*$//')}"
  log "== $tag"
  timeout "$limit" node dist/cli.js probe "$file" --model "$model" --ep "$ep" --dtype fp16 --seq "$seq" --batch "$batch" \
    --runs 10 --json --timeout $((limit - 5)) ${extra:-} > "$out/ort-$tag.json" 2> "$out/ort-$tag.err"
  log "ort exit $? ($(head -c 300 "$out/ort-$tag.err" | tr '\n' ' '))"
  if timeout 120 node dist/cli.js export-onnx "$file" --model "$model" --dtype fp16 ${extra:-} --graph-json "/tmp/graph-$tag.json" > /dev/null 2>> "$out/log.txt"; then
    timeout "$limit" python3 scripts/gpu-probe-torch.py "/tmp/graph-$tag.json" --device "$([ "$ep" = cpu ] && echo cpu || echo cuda)" --batch "$batch" --seq "$seq" --runs 10 > "$out/torch-$tag.json" 2>> "$out/log.txt"
    log "torch prefill exit $?"
  fi
  if timeout 120 node dist/cli.js export-onnx "$file" --model "$model" --dtype fp16 ${extra:-} --decode-past "$seq" --batch "$batch" --graph-json "/tmp/graph-$tag-decode.json" > /dev/null 2>> "$out/log.txt"; then
    timeout "$limit" python3 scripts/gpu-probe-torch.py "/tmp/graph-$tag-decode.json" --device "$([ "$ep" = cpu ] && echo cpu || echo cuda)" --runs 50 > "$out/torch-$tag-decode.json" 2>> "$out/log.txt"
    log "torch decode exit $?"
  fi
  rm -f "/tmp/graph-$tag.json" "/tmp/graph-$tag-decode.json"
done

# The table for docs/performance.md: ORT (CUDA provider) vs PyTorch running the same graph.
node - "$out" <<'EOF' > "$out/performance.md"
const fs = require('fs'), path = require('path');
const dir = process.argv[2];
const read = (f) => { try { return JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')); } catch { return undefined; } };
const f = (x, d = 2) => (x === undefined || x === null || Number.isNaN(x) ? '—' : Number(x).toFixed(d));
const gpu = fs.existsSync(path.join(dir, 'gpu.txt')) ? fs.readFileSync(path.join(dir, 'gpu.txt'), 'utf8').trim() : '?';
const rows = [];
for (const file of fs.readdirSync(dir).filter((x) => /^ort-.*\.json$/.test(x)).sort()) {
  const tag = file.slice(4, -5);
  const o = read(file), t = read(`torch-${tag}.json`), td = read(`torch-${tag}-decode.json`);
  if (!o || o.error) { rows.push(`| ${tag} | failed: ${o?.error?.kind ?? 'no result'} ${(o?.error?.message ?? '').slice(0, 80)} | | | | | | | | |`); continue; }
  const torchMs = t?.graphMs ?? t?.eagerMs;
  const dec = o.decode && !('unavailable' in o.decode) ? o.decode : undefined;
  const place = Object.entries(o.placement?.nodesByProvider ?? {}).map(([k, v]) => `${k.replace('ExecutionProvider', '')} ${v}`).join(', ');
  rows.push(`| ${tag} | ${o.provider}${o.fallback ? ' (FALLBACK)' : ''} | ${f(o.sessionCreateMs / 1000, 1)} s | ${f(o.prefill.medianMs)} | ${f(torchMs)} | ${f(torchMs / o.prefill.medianMs)}× | ${f(o.prefill.achievedFlopsPerSecond / 1e12, 1)} | ${f(o.prefill.roofline.seconds * 1e3)} | ${dec ? f(dec.medianMs, 3) : 'n/a'} | ${f(td?.graphMs ?? td?.eagerMs, 3)} | ${dec ? f(dec.roofline.seconds * 1e3, 3) : '—'} | ${place} |`);
}
console.log(`GPU: ${gpu}\n`);
console.log('| model-seq-batch | provider | session | ORT prefill ms | PyTorch same graph ms | PyTorch/ORT | ORT TFLOP/s (engine count) | roofline prefill ms | ORT decode ms | PyTorch decode ms | roofline decode ms | nodes by provider |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
EOF
log "summary: $out/performance.md"
cat "$out/performance.md"
