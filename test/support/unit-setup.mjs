// Jest globalSetup of the unit project: its temporary files under this jest run's folder (temp-root.mjs).
import { makeTempRoot } from './temp-root.mjs';

export default function unitSetup() {
  makeTempRoot();
}
