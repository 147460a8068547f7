// Regenerates the typed API client's inputs from the gateway's own code:
//   src/api/openapi.json  <- create_app(...).openapi() (Python, no server needed)
//   src/api/schema.d.ts   <- openapi-typescript
// `--check` generates into a temporary folder and fails when the checked-in files differ (CI).
// The Python used is $GATEWAY_PYTHON, else the checkout's .venv, else python3.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const checkout = resolve(frontend, '..');
const apiDir = join(frontend, 'src', 'api');
const FILES = ['openapi.json', 'schema.d.ts'];

// Settings come only from defaults (no .env, no GATEWAY variables of the caller's shell), so the document
// is the same on every machine.
const PYTHON_SNIPPET = [
  'import json, sys',
  'from app.config import load_settings',
  'from app.main import create_app',
  'app = create_app(load_settings(_env_file=None))',
  'sys.stdout.write(json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\\n")',
].join('; ');

function python() {
  if (process.env.GATEWAY_PYTHON) return process.env.GATEWAY_PYTHON;
  const venv = join(checkout, '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

/** @param {string} outDir */
function generate(outDir) {
  mkdirSync(outDir, { recursive: true });
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    PYTHONPATH: join(checkout, 'backend'),
    HF_HUB_OFFLINE: '1',
  };
  const document = execFileSync(python(), ['-c', PYTHON_SNIPPET], {
    cwd: checkout,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  writeFileSync(join(outDir, 'openapi.json'), document);
  execFileSync(
    join(frontend, 'node_modules', '.bin', 'openapi-typescript'),
    [join(outDir, 'openapi.json'), '--output', join(outDir, 'schema.d.ts'), '--silent'],
    { cwd: frontend, stdio: 'inherit' },
  );
}

if (process.argv.includes('--check')) {
  const temp = mkdtempSync(join(tmpdir(), 'gateway-api-'));
  try {
    generate(temp);
    const stale = FILES.filter(
      (name) =>
        !existsSync(join(apiDir, name)) ||
        !readFileSync(join(temp, name)).equals(readFileSync(join(apiDir, name))),
    );
    if (stale.length) {
      console.error(
        `check:api: src/api/${stale.join(', src/api/')} differ from the gateway's OpenAPI document; run \`npm run gen:api\` and commit the result`,
      );
      process.exit(1);
    }
    console.log('check:api: the typed client matches the gateway');
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
} else {
  generate(apiDir);
  console.log(`gen:api: wrote src/api/${FILES.join(', src/api/')}`);
}
