// Jest globalTeardown of both projects: removes this jest run's temporary folder (temp-root.mjs).
import { removeTempRoot } from './temp-root.mjs';

export default function teardown() {
  removeTempRoot();
}
