import { parseCommandArgs, printJson, type CliCommand } from '../command.js';
import { formatTime, libraryOption, printTable, wantsJson, withLibrary } from './library-common.js';

export const sessionsCommand: CliCommand = {
  name: 'sessions',
  summary: 'List the drives in the library with their latest analysis',
  usage: 'sessions [--library PATH | --database URL] [--json]',
  async run(args) {
    const { values } = parseCommandArgs(this, args, { ...libraryOption, json: { type: 'boolean' } });
    const sessions = await withLibrary(values, (store) => store.sessions.list());
    if (wantsJson(values.json)) return printJson(sessions);
    printTable([
      ['session', 'name', 'duration', 'sources', 'model', 'status', 'frames'],
      ...sessions.map((session) => {
        const analysis = session.latestAnalysis;
        return [
          session.id,
          session.name,
          formatTime(session.durationMs),
          session.sources.length,
          analysis?.modelName ?? '-',
          analysis?.status ?? 'not analysed',
          analysis ? `${analysis.framesDone}/${analysis.framesTotal}` : '-',
        ];
      }),
    ]);
  },
};
