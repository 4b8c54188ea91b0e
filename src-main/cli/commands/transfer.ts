// push and pull: sessions copied between a library file and a team database (library/transfer.ts).
import { copyLibrarySessions, describeLocation, type TransferReport } from '../../library/index.js';
import { AppError } from '../../core/errors.js';
import { parseCommandArgs, printJson, type CliCommand } from '../command.js';
import { databaseFlag, libraryLocation, sessionFlag, wantsJson, withLibraryAt } from './library-common.js';

const transferOptions = {
  library: { type: 'string' },
  database: { type: 'string' },
  session: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

export const pushCommand: CliCommand = {
  name: 'push',
  summary:
    'Copy sessions of a library file (all, or those --session names) with their analyses, frames, events, flags and taught classes into a team database; what is there already is skipped',
  usage: 'push --database URL [--library PATH] [--session ID]... [--json]',
  async run(args) {
    const { values } = parseCommandArgs(this, args, transferOptions);
    const { file, database, sessions } = transferFlags(values, this.usage, false);
    await transfer(file, database, sessions, values.json, describeLocation(database));
  },
};

export const pullCommand: CliCommand = {
  name: 'pull',
  summary:
    'Copy sessions of a team database (those --session names) with their analyses, frames, events, flags and taught classes into a library file; what is there already is skipped',
  usage: 'pull --database URL --session ID [--session ID]... [--library PATH] [--json]',
  async run(args) {
    const { values } = parseCommandArgs(this, args, transferOptions);
    const { file, database, sessions } = transferFlags(values, this.usage, true);
    await transfer(database, file, sessions, values.json, file);
  },
};

function transferFlags(
  values: { library?: string; database?: string; session?: string[] },
  usage: string,
  sessionsRequired: boolean,
): { file: string; database: string; sessions: number[] } {
  if (values.database === undefined)
    throw new AppError('usage', `--database URL names the team database. Usage: dmlreview ${usage}`);
  const sessions = (values.session ?? []).map((value) => sessionFlag(value, usage));
  if (sessionsRequired && sessions.length === 0)
    throw new AppError('usage', `--session ID names what to copy. Usage: dmlreview ${usage}`);
  return { file: libraryLocation({ library: values.library }), database: databaseFlag(values.database), sessions };
}

async function transfer(
  from: string,
  to: string,
  sessions: number[],
  json: boolean | undefined,
  target: string,
): Promise<void> {
  const report = await withLibraryAt(from, (source) =>
    withLibraryAt(to, (destination) => copyLibrarySessions(source, destination, sessions)),
  );
  if (wantsJson(json)) return printJson(report);
  process.stdout.write(`${describeReport(report, target)}\n`);
}

function describeReport(report: TransferReport, target: string): string {
  const lines = report.sessions.map(
    (session) =>
      `Session ${session.from} "${session.name}": ${session.created ? 'copied as' : 'already there as'} session ${session.to}`,
  );
  for (const analysis of report.analyses)
    lines.push(
      analysis.copied
        ? `  analysis ${analysis.from}: copied as analysis ${analysis.to} (${analysis.frames} frames)`
        : `  analysis ${analysis.from}: skipped (${analysis.why})`,
    );
  const flags = report.flags;
  lines.push(
    `Flags: ${flags.copied} copied, ${flags.alreadyThere} skipped (already there)${flags.onAnalysisNotCopied ? `, ${flags.onAnalysisNotCopied} skipped (their analysis was not copied)` : ''}`,
  );
  const classes = report.taughtClasses;
  lines.push(
    `Taught classes: ${classes.copied.length} copied${classes.copied.length ? ` (${classes.copied.join(', ')})` : ''}, ${classes.skipped.length} skipped${classes.skipped.length ? ` (already there: ${classes.skipped.join(', ')})` : ''}`,
  );
  lines.push(`Into ${target}.`);
  return lines.join('\n');
}
