import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { errorMessage } from '../core/errors.js';
import type { ExecutionProviderSetting } from './types.js';

type GpuSetting = Exclude<ExecutionProviderSetting, 'auto' | 'cpu'>;

/** onnxruntime-node's backend name for each setting. */
const ORT_NAMES: Record<GpuSetting, string> = { cuda: 'cuda', directml: 'dml', coreml: 'coreml' };

export const CUDA_INSTALL_HINT =
  'npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12 (needs CUDA 12 and cuDNN 9)';

/** The GPU providers `auto` tries on this platform, best first. */
function autoCandidates(): GpuSetting[] {
  if (process.platform === 'darwin') return ['coreml'];
  if (process.platform === 'win32') return ['cuda', 'directml'];
  if (process.platform === 'linux' && process.arch === 'x64') return ['cuda'];
  return [];
}

/** Folder holding onnxruntime's native libraries for this platform (the CUDA provider is installed there). */
function nativeLibraryDir(): string | undefined {
  const binRoot = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin');
  if (!existsSync(binRoot)) return undefined;
  return readdirSync(binRoot)
    .map((napi) => join(binRoot, napi, process.platform, process.arch))
    .find((dir) => existsSync(dir));
}

/** Why a provider cannot be tried here, or null when it may work. Checked up front so onnxruntime does not log load failures. */
function unavailableReason(setting: GpuSetting): string | null {
  const name = ORT_NAMES[setting];
  if (!ort.listSupportedBackends().some((backend) => backend.name === name)) {
    return `${setting}: not part of onnxruntime-node on ${process.platform}-${process.arch}`;
  }
  if (setting === 'cuda') {
    const dir = nativeLibraryDir();
    const library =
      process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    if (!dir || !existsSync(join(dir, library))) return `cuda: provider libraries not installed (${CUDA_INSTALL_HINT})`;
  }
  return null;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  provider: { name: string; notes: string[] };
}

/** Creates the session on the preferred provider, falling back to CPU and recording why. */
export async function createSession(
  model: Uint8Array,
  setting: ExecutionProviderSetting,
  threads: number,
): Promise<OpenedSession> {
  const notes: string[] = [];
  const base: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    // Idle model threads sleep instead of spinning, leaving the cores to the other lanes and the head (measured
    // faster on 2 cores: docs/benchmarks.md, "Figures behind design choices in the code").
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  const candidates: GpuSetting[] = setting === 'auto' ? autoCandidates() : setting === 'cpu' ? [] : [setting];
  for (const candidate of candidates) {
    const reason = unavailableReason(candidate);
    if (reason) {
      notes.push(reason);
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(model, {
        ...base,
        executionProviders: [ORT_NAMES[candidate], 'cpu'],
      });
      return { session, provider: { name: candidate, notes } };
    } catch (error) {
      notes.push(`${candidate}: failed to start (${errorMessage(error)})`);
    }
  }
  if (setting === 'cpu') notes.push('cpu: chosen in settings');
  const session = await ort.InferenceSession.create(model, { ...base, executionProviders: ['cpu'] });
  return { session, provider: { name: 'cpu', notes } };
}
