import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { AppError, errorMessage } from '../core/errors.js';
import { cardPath, type ModelCard } from './model-card.js';
import { createSession } from './providers.js';
import type { ExecutionProviderSetting } from './types.js';

export interface ModelOutput {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

function invalid(message: string, cause?: unknown): AppError {
  return new AppError('model_invalid', message, { cause });
}

async function readModelBytes(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new AppError('model_missing', `Model file ${path} cannot be read (${errorMessage(error)})`, { cause: error });
  }
  if (bytes.length === 0) throw invalid(`Model file ${path} is empty`);
  return bytes;
}

/** The ONNX graph of one model card, checked against the card, on one execution provider. */
export class OnnxModel {
  private constructor(
    readonly path: string,
    readonly card: ModelCard,
    private readonly session: ort.InferenceSession,
    readonly provider: { name: string; notes: string[] },
  ) {}

  /** Loads, checks the graph against the card, and runs once (warm-up, which also checks the output shape). */
  static async load(
    modelsDir: string,
    card: ModelCard,
    provider: ExecutionProviderSetting,
    threads: number,
  ): Promise<OnnxModel> {
    const path = join(modelsDir, card.onnx);
    const bytes = await readModelBytes(path);
    let opened;
    try {
      opened = await createSession(bytes, provider, threads);
    } catch (error) {
      throw invalid(`Model file ${path} is not a valid ONNX model or is truncated (${errorMessage(error)})`, error);
    }
    const model = new OnnxModel(path, card, opened.session, opened.provider);
    try {
      model.checkGraphAgainstCard(bytes, cardPath(modelsDir, card.name));
      const warmUp = await model.run(new Float32Array(3 * card.input.width * card.input.height));
      model.checkOutputShape(warmUp, cardPath(modelsDir, card.name));
    } catch (error) {
      await opened.session.release();
      throw error;
    }
    return model;
  }

  private checkGraphAgainstCard(bytes: Uint8Array, cardFile: string): void {
    const { input, output, sha256 } = this.card;
    const disagree = (what: string) => invalid(`Model card ${cardFile} disagrees with ${this.path}: ${what}`);
    if (!this.session.inputNames.includes(input.name)) {
      throw disagree(`card input "${input.name}", graph inputs [${this.session.inputNames.join(', ')}]`);
    }
    if (!this.session.outputNames.includes(output.name)) {
      throw disagree(`card output "${output.name}", graph outputs [${this.session.outputNames.join(', ')}]`);
    }
    const meta = this.session.inputMetadata.find((value) => value.name === input.name);
    if (meta?.isTensor) {
      const [, channels, height, width] = meta.shape;
      if (meta.shape.length !== 4 || (typeof channels === 'number' && channels !== 3)) {
        throw disagree(`graph input shape [${meta.shape.join(', ')}] is not [1, 3, H, W]`);
      }
      if (
        (typeof height === 'number' && height !== input.height) ||
        (typeof width === 'number' && width !== input.width)
      ) {
        throw disagree(
          `card input size ${input.width}x${input.height}, graph input ${String(width)}x${String(height)}`,
        );
      }
    }
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (sha256 && actual !== sha256)
      throw disagree(`card sha256 ${sha256.slice(0, 12)}..., file sha256 ${actual.slice(0, 12)}...`);
  }

  private checkOutputShape(result: ModelOutput, cardFile: string): void {
    const { output, input } = this.card;
    const expected = [
      output.embeddingDim,
      Math.ceil(input.height / output.stride),
      Math.ceil(input.width / output.stride),
    ];
    const actual = [result.channels, result.height, result.width];
    if (expected.some((value, i) => value !== actual[i])) {
      throw invalid(
        `Model card ${cardFile} disagrees with ${this.path}: card expects output ${output.name} [1, ${expected.join(', ')}] ` +
          `(embeddingDim ${output.embeddingDim}, stride ${output.stride}), graph gives [1, ${actual.join(', ')}]`,
      );
    }
  }

  /** Runs the graph on a normalised 1 x 3 x height x width tensor (the card's input size unless given). */
  async run(input: Float32Array, height = this.card.input.height, width = this.card.input.width): Promise<ModelOutput> {
    const tensor = new ort.Tensor('float32', input, [1, 3, height, width]);
    const outputs = await this.session.run({ [this.card.input.name]: tensor });
    const value = outputs[this.card.output.name];
    if (!value || value.type !== 'float32' || value.dims.length !== 4) {
      throw invalid(`Model file ${this.path}: output ${this.card.output.name} is not a float32 [1, C, H, W] tensor`);
    }
    const [, channels = 0, outHeight = 0, outWidth = 0] = value.dims;
    return { data: value.data as Float32Array, channels, height: outHeight, width: outWidth };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
