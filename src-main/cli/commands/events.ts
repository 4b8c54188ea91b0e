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

export const eventsCommand: CliCommand = {
  name: 'events',
  summary: "List a session's events (runs of frames scored above the threshold), highest peak first",
  usage: 'events --session ID [--library PATH | --database URL] [--limit N] [--json]',
  async run(args) {
    const { values } = parseCommandArgs(this, args, {
      ...libraryOption,
      session: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    });
    const sessionId = sessionFlag(values.session, this.usage);
    const limit = numberFlag('limit', values.limit, -1);
    const events = await withLibrary(values, async (store) =>
      store.events.list((await latestAnalysis(store, sessionId)).id, limit),
    );
    const rows = events.map((event) => ({
      id: event.id,
      start_ms: event.startMs,
      end_ms: event.endMs,
      peak_ms: event.peakMs,
      peak_score: event.peakScore,
      peak_frame: event.peakFrame,
      frame_count: event.frameCount,
    }));
    if (wantsJson(values.json)) return printJson(rows);
    printTable([
      ['event', 'start', 'end', 'peak at', 'peak score', 'frames'],
      ...events.map((event) => [
        event.id,
        formatTime(event.startMs),
        formatTime(event.endMs),
        formatTime(event.peakMs),
        event.peakScore.toFixed(3),
        event.frameCount,
      ]),
    ]);
  },
};
