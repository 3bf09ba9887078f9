// Vite configuration: one plugin that serves the deployment file the page reads.
//
// The page is static, but which contracts it talks to is decided when it is served: `zkml-eth deploy`
// writes a JSON file, and ZKML_DEPLOYMENT names it. The plugin answers /deployment.json from that file on
// every request, in `vite` (dev) and in `vite preview` alike, so a redeploy needs no rebuild; the RPC URL
// comes from the page's query string (`?rpc=`), since a built page cannot read the server's environment.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

function deploymentFile(): Plugin {
  const handle = async (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    if (req.url?.split('?')[0] !== '/deployment.json') return next();
    const file = process.env.ZKML_DEPLOYMENT;
    const fail = (message: string) => {
      res.statusCode = 503;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(message);
    };
    if (!file) {
      return fail(
        'ZKML_DEPLOYMENT is not set: start the server with ZKML_DEPLOYMENT=path/to/deployment.json ' +
          '(the file `zkml-eth deploy --out` writes, deployments/local.json by default).',
      );
    }
    const path = resolve(file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      return fail(`ZKML_DEPLOYMENT=${path} could not be read: ${(err as Error).message}`);
    }
    try {
      JSON.parse(text);
    } catch (err) {
      return fail(`ZKML_DEPLOYMENT=${path} is not JSON: ${(err as Error).message}`);
    }
    res.setHeader('content-type', 'application/json');
    // Always the file as it is now: a redeploy shows up on reload.
    res.setHeader('cache-control', 'no-store');
    res.end(text);
  };
  return {
    name: 'zkml-deployment-file',
    configureServer(server) {
      server.middlewares.use((req, res, next) => void handle(req, res, next));
    },
    configurePreviewServer(server) {
      server.middlewares.use((req, res, next) => void handle(req, res, next));
    },
  };
}

export default defineConfig({
  plugins: [deploymentFile()],
  build: { target: 'es2022' },
});
