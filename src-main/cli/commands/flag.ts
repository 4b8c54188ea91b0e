import { FlagCategory, methods } from '../../../src-shared/contract/index.js';
import { AppError, describeIssues } from '../../core/errors.js';
import { numberFlag, parseCommandArgs, printJson, type CliCommand } from '../command.js';
import { formatTime, latestAnalysis, libraryOption, sessionFlag, wantsJson, withLibrary } from './library-common.js';

/** The request's fields as the options that fill them, for error messages. */
const OPTION: Record<string, string> = {
  frameIndex: '--frame',
  eventId: '--event',
  category: '--category',
  note: '--note',
};

export const flagCommand: CliCommand = {
  name: 'flag',
  summary: "Flag a frame or an event of a session's latest analysis, as F does in the session view",
  usage: `flag --session ID (--frame INDEX | --event ID) [--category ${FlagCategory.options.join('|')}] [--note TEXT] [--library PATH | --database URL] [--json]`,
  async run(args) {
    const { values } = parseCommandArgs(this, args, {
      ...libraryOption,
      session: { type: 'string' },
      frame: { type: 'string' },
      event: { type: 'string' },
      category: { type: 'string' },
      note: { type: 'string' },
      json: { type: 'boolean' },
    });
    const sessionId = sessionFlag(values.session, this.usage);
    if ((values.frame === undefined) === (values.event === undefined))
      throw new AppError('usage', `Give either --frame INDEX or --event ID. Usage: dmlreview ${this.usage}`);
    const flag = await withLibrary(values, async (library) => {
      // The API's own request schema: the CLI accepts exactly what the UI may send.
      const request = methods['flags.add'].request.safeParse({
        analysisId: (await latestAnalysis(library, sessionId)).id,
        frameIndex: values.frame === undefined ? undefined : numberFlag('frame', values.frame, 0),
        eventId: values.event === undefined ? undefined : numberFlag('event', values.event, 0),
        category: values.category,
        note: values.note,
      });
      if (!request.success)
        throw new AppError(
          'usage',
          describeIssues(
            request.error.issues.map((issue) => ({
              ...issue,
              path: issue.path.map((key) => OPTION[String(key)] ?? key),
            })),
          ),
        );
      return library.flags.add(request.data);
    });
    if (wantsJson(values.json)) return printJson(flag);
    process.stdout.write(
      `Flagged frame ${flag.frameIndex} (${formatTime(flag.timeMs)}) of session ${flag.sessionId} as ${flag.category} (flag ${flag.id}).\n`,
    );
  },
};
