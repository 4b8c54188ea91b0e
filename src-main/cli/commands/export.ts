import { AppError } from '../../core/errors.js';
import { exportFlagged } from '../../export/index.js';
import { numberFlag, parseCommandArgs, printJson, type CliCommand } from '../command.js';
import { clipOptions, describeClip, runClipExport, wantsClip } from './export-clip.js';
import { libraryOption, sessionFlag, wantsJson, withLibrary } from './library-common.js';

export const exportCommand: CliCommand = {
  name: 'export',
  summary:
    "Export a session's flagged frames (full-resolution originals, overlays, maps, manifest, HTML report) to a new folder",
  usage:
    'export --session ID --out FOLDER [--name NAME] [--analysis ID] [--library PATH] [--json]' +
    ' [--clip EVENT_ID | --from MS --to MS [--overlay classes,heat,outline] [--opacity 0..1]]',
  async run(args) {
    const { values } = parseCommandArgs(this, args, {
      ...libraryOption,
      session: { type: 'string' },
      analysis: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      json: { type: 'boolean' },
      ...clipOptions,
    });
    const sessionId = sessionFlag(values.session, this.usage);
    const folder = values.out;
    if (!folder) throw new AppError('usage', `--out FOLDER is required. Usage: dmlreview ${this.usage}`);
    const analysisId = values.analysis === undefined ? undefined : numberFlag('analysis', values.analysis, 0);
    if (wantsClip(values)) {
      const clip = await withLibrary(values.library, (library) =>
        runClipExport(library, { sessionId, analysisId, folder, name: values.name }, values, this.usage),
      );
      if (process.stderr.isTTY) process.stderr.write('\n');
      if (wantsJson(values.json)) return printJson(clip);
      process.stdout.write(describeClip(clip));
      return;
    }
    const result = await withLibrary(values.library, (library) =>
      exportFlagged(
        { sessionId, analysisId, folder, name: values.name },
        {
          library,
          onProgress: (done, total) => process.stderr.isTTY && process.stderr.write(`\rexporting ${done}/${total}`),
        },
      ),
    );
    if (process.stderr.isTTY) process.stderr.write('\n');
    if (wantsJson(values.json)) return printJson(result);
    process.stdout.write(
      `Exported ${result.frames.length} flagged frames to ${result.path} (${(result.bytes / 1024 / 1024).toFixed(1)} MB); open ${result.report} there.\n`,
    );
  },
};
