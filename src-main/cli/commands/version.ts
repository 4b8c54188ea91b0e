import { appVersion } from '../../core/version.js';
import { parseCommandArgs, printJson, type CliCommand } from '../command.js';

export const versionCommand: CliCommand = {
  name: 'version',
  summary: 'Print the version',
  usage: 'version [--json]',
  async run(args) {
    const { values } = parseCommandArgs(this, args, { json: { type: 'boolean' } });
    if (values.json) printJson({ name: 'dmlreview', version: appVersion(), node: process.versions.node });
    else process.stdout.write(`dmlreview ${appVersion()}\n`);
  },
};
