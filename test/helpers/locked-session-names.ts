/**
 * A second process for the write-lock test (library-store.test.ts): opens the library given as its argument,
 * says "asking" on stdout, then, inside a write transaction, prints the names of the sessions it finds as JSON.
 */
import { openLibrary } from '../../src-main/library/index.js';

const library = await openLibrary(process.argv[2]!);
process.stdout.write('asking\n');
const names = await library.writeTransaction(async () =>
  (await library.sessions.list()).map((session) => session.name),
);
process.stdout.write(`${JSON.stringify(names)}\n`);
await library.close();
