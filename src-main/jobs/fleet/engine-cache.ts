import { openEngine } from '../../engine/index.js';
import type { Engine } from '../../engine/types.js';
import type { EngineFactory } from '../pipeline.js';

/**
 * The engine a worker keeps open from one chunk to the next: loading a model and warming it up costs seconds of
 * CPU, as much as tens of frames, and a worker mostly runs chunks of the same model one after another. The
 * pipeline disposes the engine it is given after each chunk; the one handed out here ignores that, and the
 * cache disposes it when the model (or its options) changes, after a failed chunk, or when the worker stops.
 */
export class EngineCache {
  private kept: { key: string; engine: Promise<Engine> } | undefined;

  constructor(private readonly open: EngineFactory = openEngine) {}

  /** An EngineFactory for runChunk: the kept engine when it fits, else a new one, kept. */
  readonly factory: EngineFactory = async (modelsDir, modelName, options) => {
    const key = JSON.stringify([modelsDir, modelName, options ?? null]);
    if (this.kept?.key !== key) {
      await this.close();
      this.kept = { key, engine: this.open(modelsDir, modelName, options) };
    }
    const kept = this.kept;
    try {
      return keptOpen(await kept.engine);
    } catch (error) {
      if (this.kept === kept) this.kept = undefined; // a model that failed to open is opened again next time
      throw error;
    }
  };

  /** Disposes the kept engine (a failed chunk may have left it broken; a stopping worker needs it no more). */
  async close(): Promise<void> {
    const kept = this.kept;
    this.kept = undefined;
    const engine = await kept?.engine.catch(() => undefined);
    await engine?.dispose();
  }
}

/** The engine, its methods bound to it, with a dispose() that leaves it open. */
function keptOpen(engine: Engine): Engine {
  return new Proxy(engine, {
    get(target, property) {
      if (property === 'dispose') return () => Promise.resolve();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
