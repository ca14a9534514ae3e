// The browser kiosk's scan worker: scans camera frames so the page's own thread only grabs
// them and draws (a frame can take 40-50 ms to scan). It runs the page's own wasm module
// (scripts/build-web.sh rewrites the import below to the hashed file name): the page posts
// its compiled WebAssembly.Module first, so the .wasm is neither downloaded nor compiled a
// second time. Everything after that is Rust (src/platform/web/worker.rs): one scanner for
// the life of the worker, one answer per frame.
import init, { quickcard_scan_worker_start } from "./quickcard_kiosk.js";

self.onmessage = async (ev) => {
  // Only the first message is ours; the Rust side takes every later one.
  self.onmessage = null;
  try {
    await init({ module_or_path: ev.data.module });
    quickcard_scan_worker_start();
  } catch (e) {
    self.postMessage({ failed: String((e && e.message) || e) });
  }
};
