// The script's last line of defence against a leaked secret: every value it logs through quote
// (ecr-log.sh) is scrubbed of the tokens, the encoded docker config and the API token it knows.
// Answers from the API server are scrubbed before that, as they are read (read_reasons in
// ecr-api.sh, tested with an echoing front in refresh-script.test.ts); this holds the shell-side
// redaction on its own, under busybox ash as the pod runs it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { e2eAvailable, runBusyboxScript, scriptEnv } from './harness/index.js';

const SCRIPT_DIR = join(import.meta.dirname, '..', '..', 'src', 'scripts');

describe.skipIf(!e2eAvailable.ok)('quote (ecr-log.sh): every logged value is scrubbed of known secrets', () => {
  test('each known secret, however often it appears, is logged as [REDACTED]; newlines and tabs become spaces', async () => {
    const probe = join(mkdtempSync(join(tmpdir(), 'log-redaction-')), 'probe.sh');
    writeFileSync(
      probe,
      [
        "NL='",
        "'",
        `. "${SCRIPT_DIR}/ecr-log.sh"`,
        'secret_values=" QVdTOnRva2VuLW9uZQ== eyJhdXRocyI6e319"',
        'api_token=eyJhbGciOiJSUzI1NiJ9.api',
        'quote "$(printf \'denied: QVdTOnRva2VuLW9uZQ== and QVdTOnRva2VuLW9uZQ==\\nconfig eyJhdXRocyI6e319\\tbearer eyJhbGciOiJSUzI1NiJ9.api\')"',
        'log error namespace namespace=app result=failed "reason=$quoted"',
        '',
      ].join('\n'),
    );
    const result = await runBusyboxScript(probe, scriptEnv({}));
    expect({ stdout: result.stdout, stderr: result.stderr }).toEqual({
      stdout:
        'level=error event=namespace namespace=app result=failed reason="denied: [REDACTED] and [REDACTED] config [REDACTED] bearer [REDACTED]"\n',
      stderr: '',
    });
  });
});
