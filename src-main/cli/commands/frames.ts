import { numberFlag, parseCommandArgs, printJson, type CliCommand } from '../command.js';
import {
  formatTime,
  latestAnalysis,
  libraryOption,
  printTable,
  sessionFlag,
  wantsJson,
  withLibrary,
} from './library-common.js';

export const framesCommand: CliCommand = {
  name: 'frames',
  summary: "List a session's analysed frames, highest OOD score first",
  usage: 'frames --session ID [--library PATH | --database URL] [--top N] [--min-score X] [--json]',
  async run(args) {
    const { values } = parseCommandArgs(this, args, {
      ...libraryOption,
      session: { type: 'string' },
      top: { type: 'string' },
      'min-score': { type: 'string' },
      json: { type: 'boolean' },
    });
    const sessionId = sessionFlag(values.session, this.usage);
    const limit = Math.min(1000, Math.max(1, numberFlag('top', values.top, 20)));
    const minScore = values['min-score'] === undefined ? undefined : numberFlag('min-score', values['min-score'], 0);
    const { frames } = await withLibrary(values, async (store) =>
      store.frames.top({ analysisId: (await latestAnalysis(store, sessionId)).id, offset: 0, limit, minScore }),
    );
    const rows = frames.map((frame) => ({
      index: frame.index,
      time_ms: frame.timeMs,
      score: frame.score,
      unknown_fraction: frame.unknownFraction,
      largest_region: frame.largestRegion,
      flagged: frame.flagged,
    }));
    if (wantsJson(values.json)) return printJson(rows);
    printTable([
      ['frame', 'time', 'score', 'unknown %', 'flagged'],
      ...frames.map((frame) => [
        frame.index,
        formatTime(frame.timeMs),
        frame.score.toFixed(3),
        (frame.unknownFraction * 100).toFixed(2),
        frame.flagged ? 'yes' : '',
      ]),
    ]);
  },
};
