/**
 * Sharing taught classes between libraries: a JSON document (format dmlreview-knowledge/1) with the
 * prototypes and how they were made, but not the frames. A document only fits the model it was made with.
 */
import { KnowledgeDocument } from '../../src-shared/contract/index.js';
import { AppError } from '../core/errors.js';
import type { KnowledgeCheck, KnowledgeStore } from '../library/index.js';

export interface ModelIdentity {
  name: string;
  sha256: string;
  embeddingDim: number;
}

export async function exportKnowledge(store: KnowledgeStore, model: ModelIdentity): Promise<KnowledgeDocument> {
  return {
    format: 'dmlreview-knowledge/1',
    modelName: model.name,
    modelSha256: model.sha256,
    embeddingDim: model.embeddingDim,
    exportedAt: new Date().toISOString(),
    classes: (await store.list(model.sha256)).map((cls) => ({
      name: cls.name,
      color: cls.color,
      enabled: cls.enabled,
      prototypes: cls.prototypes,
      acceptanceRadius: cls.acceptanceRadius,
      createdBy: cls.createdBy,
      createdAt: cls.createdAt,
      shots: cls.shots.map((shot) => ({ description: shot.description, pixels: shot.pixels })),
    })),
  };
}

/** Parses and checks a document's text; every refusal says what is wrong with the file. */
export function parseKnowledge(text: string, model: ModelIdentity): KnowledgeDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AppError(
      'invalid_knowledge_file',
      `The knowledge file is not valid JSON (${(error as Error).message}): export it again from dmlreview`,
    );
  }
  const parsed = KnowledgeDocument.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.map(String).join('.') : '(root)';
    throw new AppError(
      'invalid_knowledge_file',
      `The knowledge file is not a dmlreview knowledge base: ${where}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const document = parsed.data;
  if (document.embeddingDim !== model.embeddingDim) {
    throw new AppError(
      'knowledge_model_mismatch',
      `The knowledge file was made with model ${document.modelName} (embedding size ${document.embeddingDim}); ${model.name} has embedding size ${model.embeddingDim}: import it with the model it was made with`,
    );
  }
  if (document.modelSha256 !== model.sha256) {
    throw new AppError(
      'knowledge_model_mismatch',
      `The knowledge file was made with model ${document.modelName} (sha256 ${document.modelSha256.slice(0, 12)}), not ${model.name} (sha256 ${model.sha256.slice(0, 12)}): prototypes only mean something in the embedding space they were taught in`,
    );
  }
  document.classes.forEach((cls) => {
    if (
      cls.prototypes.some((row) => row.length !== model.embeddingDim || row.some((value) => !Number.isFinite(value)))
    ) {
      throw new AppError(
        'invalid_knowledge_file',
        `The knowledge file's class "${cls.name}" has a prototype that is not ${model.embeddingDim} finite numbers`,
      );
    }
  });
  return document;
}

/**
 * Imports every class whose name is free, as one knowledge version; classes whose name exists are skipped and
 * reported. `check` sees the classes the import leaves in force, before anything is committed.
 */
export async function importKnowledge(
  store: KnowledgeStore,
  text: string,
  model: ModelIdentity,
  author: string,
  check?: KnowledgeCheck,
) {
  const document = parseKnowledge(text, model);
  const fresh: typeof document.classes = [];
  for (const cls of document.classes) if (!(await store.hasName(model.sha256, cls.name))) fresh.push(cls);
  const skipped = document.classes.filter((cls) => !fresh.includes(cls)).map((cls) => cls.name);
  const knowledgeVersion = fresh.length
    ? await store.addMany(
        fresh.map(({ shots, ...cls }) => ({
          ...cls,
          modelSha256: model.sha256,
          embeddingDim: model.embeddingDim,
          shots: shots.map((shot) => ({
            frame: null,
            description: `imported: ${shot.description}`,
            pixels: shot.pixels,
            mask: null,
          })),
        })),
        author,
        `import ${fresh.map((cls) => cls.name).join(', ')} from ${document.modelName} knowledge file`,
        check,
      )
    : ((await store.currentVersion()) ?? 0);
  return { imported: fresh.map((cls) => cls.name), skipped, knowledgeVersion };
}
