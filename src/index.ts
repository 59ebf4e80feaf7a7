// Entry point of the bundled action: everything lives in run().
import { run } from './main.js';

await run();
