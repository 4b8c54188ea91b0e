import { ExportFormat } from '../../../src-shared/contract/index.js';
import { AppError } from '../../core/errors.js';
import { exportFlagged } from '../../export/index.js';
import { numberFlag, parseCommandArgs, printJson, type CliCommand } from '../command.js';
import { clipOptions, describeClip, runClipExport, wantsClip } from './export-clip.js';
import { libraryOption, sessionFlag, wantsJson, withLibrary } from './library-common.js';

export const exportCommand: CliCommand = {
  name: 'export',
  summary:
    "Export a session's flagged frames to a new folder: originals, overlays, maps, manifest and HTML report (folder), or COCO, Cityscapes, CamVid, FiftyOne or CVAT annotations; or a video clip of an event or a time range",
  usage:
    `export --session ID --out FOLDER [--format ${ExportFormat.options.join('|')}] [--semantic] [--name NAME] [--analysis ID] [--library PATH | --database URL] [--json]` +
    ' [--clip EVENT_ID | --from MS --to MS [--overlay classes,heat,outline] [--opacity 0..1]]',
  async run(args) {
    const { values } = parseCommandArgs(this, args, {
      ...libraryOption,
      session: { type: 'string' },
      analysis: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      format: { type: 'string' },
      semantic: { type: 'boolean' },
      json: { type: 'boolean' },
      ...clipOptions,
    });
    const format = exportFormat(values.format);
    if (values.semantic && format !== 'coco')
      throw new AppError('usage', `--semantic applies to --format coco only, not to ${format}`);
    const sessionId = sessionFlag(values.session, this.usage);
    const folder = values.out;
    if (!folder) throw new AppError('usage', `--out FOLDER is required. Usage: dmlreview ${this.usage}`);
    const analysisId = values.analysis === undefined ? undefined : numberFlag('analysis', values.analysis, 0);
    if (wantsClip(values)) {
      if (values.format !== undefined || values.semantic)
        throw new AppError('usage', '--format and --semantic apply to flagged-frame exports, not to clips');
      const clip = await withLibrary(values, (library) =>
        runClipExport(library, { sessionId, analysisId, folder, name: values.name }, values, this.usage),
      );
      if (process.stderr.isTTY) process.stderr.write('\n');
      if (wantsJson(values.json)) return printJson(clip);
      process.stdout.write(describeClip(clip));
      return;
    }
    const result = await withLibrary(values, (library) =>
      exportFlagged(
        { sessionId, analysisId, folder, name: values.name, format, semantic: values.semantic },
        {
          library,
          onProgress: (done, total) => process.stderr.isTTY && process.stderr.write(`\rexporting ${done}/${total}`),
        },
      ),
    );
    if (process.stderr.isTTY) process.stderr.write('\n');
    if (wantsJson(values.json)) return printJson(result);
    process.stdout.write(
      `Exported ${result.frames.length} flagged frames as ${result.format} to ${result.path} (${(result.bytes / 1024 / 1024).toFixed(1)} MB); open ${result.index} there.\n`,
    );
  },
};

function exportFormat(value: string | undefined): ExportFormat {
  const parsed = ExportFormat.safeParse(value ?? 'folder');
  if (!parsed.success)
    throw new AppError('usage', `--format must be one of ${ExportFormat.options.join(', ')}; got "${value}"`);
  return parsed.data;
}
