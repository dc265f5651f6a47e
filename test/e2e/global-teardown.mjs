/** Stops what global-setup.mjs started (see there). */
export default async function globalTeardown() {
  await globalThis.modelgateE2eTeardown?.();
}
