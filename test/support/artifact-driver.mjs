// Child-process driver for the real @actions/artifact client (it reads its env at module load, so it runs in
// a fresh process whose env points at the stand-in service). Input: one JSON argument
//   { name, files, rootDirectory, retentionDays?, downloadTo? }
// Uploads, then lists, gets and (if downloadTo) downloads the artifact by id. The client logs to stdout with
// @actions/core, so the result is the last stdout line, prefixed with RESULT:
import { DefaultArtifactClient } from '@actions/artifact';

const req = JSON.parse(process.argv[2]);
const client = new DefaultArtifactClient();
const out = {};
try {
  let t = Date.now();
  out.upload = await client.uploadArtifact(req.name, req.files, req.rootDirectory, {
    retentionDays: req.retentionDays,
  });
  out.uploadMs = Date.now() - t;
  out.list = (await client.listArtifacts()).artifacts;
  out.get = (await client.getArtifact(req.name)).artifact;
  if (req.downloadTo) {
    t = Date.now();
    out.download = await client.downloadArtifact(out.upload.id, { path: req.downloadTo, expectedHash: out.get.digest });
    out.downloadMs = Date.now() - t;
  }
} catch (e) {
  out.error = e instanceof Error ? e.message : String(e);
}
process.stdout.write(`\nRESULT:${JSON.stringify(out)}\n`);
