/**
 * The embedded broker as a process of its own (see broker-process.ts), so a test can measure its
 * memory apart from the test runner's. Limits come as JSON in argv[2]; it prints its port and
 * each recorded message's topic as JSON lines, and stops on SIGTERM.
 */
import { type LimitsOverride, startBroker } from './broker.ts';

const limits = JSON.parse(process.argv[2] ?? '{}') as LimitsOverride;
const print = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
const harness = await startBroker({
  limits,
  onPublish: async (msg) => {
    print({ recorded: msg.topic });
  },
});
print({ port: harness.port });
process.once('SIGTERM', () => {
  void harness.stop().then(() => process.exit(0));
});
